"""Read Camunda 7 diagrams into SpiffWorkflow specs, keeping what SpiffWorkflow drops.

SpiffWorkflow's Camunda parser keeps forms and camunda:properties but not assignment, due
dates or priority; our user-task parser copies those attributes into `task_spec.extensions`
(which survive serialization) under the keys `camunda:<attribute>`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator, full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .errors import Invalid
from .forms import describe_xml
from .xmlsafe import parse_bpmn_bytes

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_MODEL_NS}
USER_TASK_ATTRIBUTES = ("assignee", "candidateGroups", "candidateUsers", "dueDate",
                        "followUpDate", "priority", "formKey")


class _UserTaskParser(UserTaskParser):
    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        for name in USER_TASK_ATTRIBUTES:
            value = self.attribute(name, "camunda")
            if value is not None and value.strip():
                extensions[f"camunda:{name}"] = value.strip()
        return extensions


class ReformflowParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (_UserTaskParser, UserTask),
    }


_VALIDATOR = None


def _validator() -> BpmnValidator:
    global _VALIDATOR  # loading the BPMN XSD takes ~100 ms; do it once per process
    if _VALIDATOR is None:
        _VALIDATOR = BpmnValidator()
    return _VALIDATOR


@dataclass
class ParsedProcess:
    """One executable process from one file, ready to become a definition version."""
    key: str
    name: str
    file_name: str
    xml: str
    sha256: str
    spec: object
    embedded: dict = field(default_factory=dict)   # subProcess id -> spec, same file
    called_keys: list = field(default_factory=list)  # callActivity calledElement keys
    initiator_variable: str | None = None
    # Process-level camunda:properties: the analyst's settings for this version (read-only variables).
    properties: dict = field(default_factory=dict)
    # camunda:candidateStarterGroups / candidateStarterUsers: who may start it (empty = anyone).
    starter_groups: list = field(default_factory=list)
    starter_users: list = field(default_factory=list)
    # The none start event's camunda:formData: what `start --data` may and must give.
    start_form: list = field(default_factory=list)


_TAG_IN_MESSAGE = re.compile(r"Element '\{[^}]*\}(\w+)'")


def _element_at(tree, line: int | None, message: str):
    """The element a schema error is about: the one starting on the reported line (the XSD
    validator gives only a line). If several start there, the one whose tag the message names;
    then its nearest ancestor with an id, so the analyst can find it in the Modeler."""
    if tree is None or not line:
        return None
    candidates = [el for el in tree.iter() if isinstance(el.tag, str) and el.sourceline == line]
    tag = _TAG_IN_MESSAGE.search(message)
    named = [el for el in candidates if tag and etree.QName(el).localname == tag.group(1)]
    for el in named or candidates:
        while el is not None and el.get("id") is None:
            el = el.getparent()
        if el is not None:
            return el
    return None


def _spiff_error(exc: ValidationException, default_file: str, tree=None) -> Invalid:
    file_name = getattr(exc, "file_name", None) or default_file
    element = getattr(exc, "id", None)
    name = getattr(exc, "name", None)
    if not element:
        found = _element_at(tree, getattr(exc, "line_number", None), str(exc))
        if found is not None:
            element, name = found.get("id"), found.get("name")
    element = element or "?"
    where = f"element {element}" + (f" ({name})" if name else "")
    line = getattr(exc, "line_number", None)
    line_text = f", line {line}" if line else ""
    parts = ([f"元素 {element}" + (f"（{name}）" if name else "")] if element != "?" else []) + \
        ([f"第 {line} 行"] if line else [])
    where_zh = "，".join(parts) + "：" if parts else ""
    message = str(exc).split("\n")[0].strip()
    # SpiffWorkflow's and the XML Schema's own reasons are English; the English part keeps the
    # form `element ID (name), line N: ` that checks.files reads the element from
    advice = _id_advice(element) if "xs:ID" in message else None
    if advice:
        return Invalid(f"{file_name}: {where_zh}{advice[0]} ({advice[1]}; {where}{line_text}: {message})")
    return Invalid(f"{file_name}: {where_zh}不符合 BPMN 规范，引擎无法读取 ({where}{line_text}: {message})")


def _id_advice(element: str) -> tuple[str, str]:
    """The schema's "not a valid value of the atomic type 'xs:ID'" in words an analyst acts on:
    a well-formed id there is a duplicate; otherwise the id itself is not allowed."""
    if re.fullmatch(r"[A-Za-z_][\w.-]*", element):
        return (f"id {element} 在此文件中用了不止一次，请在 Modeler 中给其中一个元素改用别的 id",
                f"the id {element} is used more than once in this file: give one of the elements another id "
                "in the Modeler")
    return (f"id「{element}」不是合法的 id：须以字母或 _ 开头，只含字母、数字、_、-、.，不含空格，请在 Modeler 中改正",
            f"the id '{element}' is not allowed: start with a letter or _, use letters, digits, _, - and . only, "
            "no spaces; correct it in the Modeler")


def property_values(element, name: str) -> list[str]:
    """The values of an element's extension property `name` (Modeler: Extensions → Properties),
    as a user task names its statutory procedure or requires a file."""
    return element.xpath("./bpmn:extensionElements/camunda:properties/camunda:property[@name=$name]/@value",
                         namespaces=NS, name=name)


def _comma_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# What the database keeps of a diagram's own text, in characters (models/process.py): the same
# limits on every database, said by `check` before PostgreSQL would refuse the row (SQLite would
# have stored a 100,000-character name).
FILE_NAME_LENGTH = 300     # process_definitions.file_name
ID_LENGTH = 200            # process_definitions.key, human_tasks.process_key / element_id
NAME_LENGTH = 300          # process_definitions.name, human_tasks.name
LANE_LENGTH = 200          # human_tasks.lane
VARIABLE_LENGTH = 200      # process_definitions.initiator_variable
PERSON_LENGTH = 64         # task_candidates.value, human_tasks.assignee: a group code or username
# SpiffWorkflow's reader follows the sequence flows from a start event recursively, two Python
# frames a step, and a plan predicts its steps the same way: a chain of about 480 steps in a row
# ran out of Python's recursion limit (RecursionError), fewer behind the web's own frames. The
# library's longest chain has 37 steps.
MAX_CHAIN = 200
_SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")


@dataclass
class LimitProblem:
    """A diagram's value beyond what the engine can read or keep: `element` None for the file name."""
    element: object
    zh: str
    en: str
    rule: str = "length"  # a check rule: "length", or "bpmn" for a chain the reader cannot follow

    def message(self) -> str:
        return _where(self.element, self.zh, self.en)

    @property
    def element_id(self) -> str | None:
        return None if self.element is None else _short(self.element.get("id") or "?", 60)

    @property
    def element_name(self) -> str | None:
        return None if self.element is None or not self.element.get("name") else _short(self.element.get("name"))


def _short(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[:size] + "…"


def _where(el, zh: str, en: str) -> str:
    """`元素 X（名称）：zh (element X (name): en)`, with ids and names cut short for the message."""
    if el is None:
        return f"{zh} ({en})"
    element = _short(el.get("id") or "?", 60)
    name = _short(el.get("name") or "") if len(el.get("name") or "") <= NAME_LENGTH else ""  # else said in zh/en
    return (f"元素 {element}" + (f"（{name}）" if name else "") + f"：{zh} (element {element}"
            + (f" ({name})" if name else "") + f": {en})")


def limit_problems(tree, file_name: str) -> list[LimitProblem]:
    """Values longer than the database keeps, and chains of steps longer than the engine reads."""
    problems = []

    def too_long(el, value: str | None, limit: int, zh: str, en: str) -> None:
        if value is not None and len(value) > limit:
            shown = _short(value)
            problems.append(LimitProblem(el, f"{zh}「{shown}」有 {len(value)} 个字符，上限 {limit} 个，请缩短",
                                         f"the {en} '{shown}' has {len(value)} characters; the limit is {limit}: "
                                         "shorten it"))

    too_long(None, file_name, FILE_NAME_LENGTH, "文件名", "file name")
    # the elements whose ids and names the engine keeps: the processes and what is in them
    for el in tree.getroot().xpath("./bpmn:process/descendant-or-self::bpmn:*", namespaces=NS):
        local = etree.QName(el).localname
        too_long(el, el.get("id"), ID_LENGTH, "id", "id")
        if local == "process":
            too_long(el, el.get("name"), NAME_LENGTH, "流程名称", "process name")
        elif local == "userTask":
            too_long(el, el.get("name"), NAME_LENGTH, "任务名称", "task name")
            too_long(el, el.get(f"{{{CAMUNDA_MODEL_NS}}}assignee"), PERSON_LENGTH, "camunda:assignee", "camunda:assignee")
            for attribute in ("candidateGroups", "candidateUsers"):
                text = el.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}") or ""
                if "${" not in text:  # an expression's names are the plan's, not the diagram's
                    for item in _comma_list(text):
                        too_long(el, item, PERSON_LENGTH, f"camunda:{attribute} 中的名称", f"name in camunda:{attribute}")
        elif local == "lane":
            too_long(el, el.get("name"), LANE_LENGTH, "泳道名称", "lane name")
        elif local == "startEvent":
            too_long(el, el.get(f"{{{CAMUNDA_MODEL_NS}}}initiator"), VARIABLE_LENGTH, "camunda:initiator 变量名",
                     "camunda:initiator variable")
        if local in _SCOPES:
            problems.extend(_chain_problems(el))
    return problems


def _chain_problems(scope) -> list[LimitProblem]:
    """A chain of more than MAX_CHAIN steps in a row in one process or subprocess: followed as
    SpiffWorkflow's reader follows it (from each start event, a task's boundary events first,
    then its outgoing flows in the order of the file; a step reached before is not followed
    again), but with a list instead of recursion."""
    children = [c for c in scope if isinstance(c.tag, str)]
    nodes = {c.get("id"): c for c in children if c.get("id")}
    following: dict[str, list[str]] = {}
    for c in children:
        local = etree.QName(c).localname
        if local == "boundaryEvent":
            following.setdefault(c.get("attachedToRef"), []).append(c.get("id"))
    for c in children:
        if etree.QName(c).localname == "sequenceFlow":
            following.setdefault(c.get("sourceRef"), []).append(c.get("targetRef"))
    seen, deepest, first_over = set(), 0, None
    for start in [c.get("id") for c in children if etree.QName(c).localname == "startEvent"]:
        if start in seen:
            continue
        seen.add(start)
        stack = [iter(following.get(start, ()))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                continue
            if step in seen or step not in nodes:
                continue
            seen.add(step)
            stack.append(iter(following.get(step, ())))
            deepest = max(deepest, len(stack))
            if len(stack) > MAX_CHAIN and first_over is None:
                first_over = nodes[step]
    if first_over is None:
        return []
    return [LimitProblem(first_over, f"这是从开始事件起一连串的第 {MAX_CHAIN + 1} 步（此处最长的一连串有 {deepest} 步），"
                                     f"引擎最多能读取一连串 {MAX_CHAIN} 步；请把其中一段步骤移入子流程或被调用的流程",
                         f"this is step {MAX_CHAIN + 1} in a row from the start event (the longest chain here has "
                         f"{deepest} steps); the engine reads at most {MAX_CHAIN} steps in a row: move a stretch of "
                         "them into a subprocess or a called process", "bpmn")]


def parse_files(files: list[tuple[str, bytes]]) -> list[ParsedProcess]:
    """Parse a set of BPMN files deployed together; raise Invalid on the first bad one."""
    parser = ReformflowParser(validator=_validator())
    trees = {}
    for file_name, data in files:
        tree = parse_bpmn_bytes(data, file_name)
        limits = limit_problems(tree, file_name)
        if limits:  # `check` lists them all (engine.checks.files); deploy never gets here with one
            raise Invalid(f"{file_name}: {limits[0].message()}")
        try:
            parser.add_bpmn_xml(tree, file_name)
        except ValidationException as exc:
            raise _spiff_error(exc, file_name, tree) from None
        except etree.LxmlError as exc:
            raise Invalid(f"{file_name}: 引擎无法读取此文件 ({exc})") from None
        trees[file_name] = (tree, data)

    processes = []
    for file_name, (tree, data) in trees.items():
        root = tree.getroot()
        embedded_ids = set(root.xpath(".//bpmn:subProcess/@id | .//bpmn:transaction/@id", namespaces=NS))
        for process in root.xpath("./bpmn:process", namespaces=NS):
            if process.get("isExecutable", "false").lower() != "true":
                continue
            key = process.get("id")
            try:
                spec = parser.get_spec(key)
                every = parser.get_subprocess_specs(key, require_call_activity_specs=False)
            except ValidationException as exc:
                raise _spiff_error(exc, file_name, tree) from None
            start_initiators = process.xpath("./bpmn:startEvent/@camunda:initiator", namespaces=NS)
            processes.append(ParsedProcess(
                key=key,
                name=process.get("name") or key,
                file_name=file_name,
                xml=data.decode("utf-8"),
                sha256=hashlib.sha256(data).hexdigest(),
                spec=spec,
                embedded={k: v for k, v in every.items() if k in embedded_ids},
                called_keys=sorted(set(process.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS))),
                initiator_variable=start_initiators[0] if start_initiators else None,
                properties={prop.get("name"): prop.get("value") or "" for prop in process.xpath(
                    "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)},
                starter_groups=_comma_list(process.get(f"{{{CAMUNDA_MODEL_NS}}}candidateStarterGroups")),
                starter_users=_comma_list(process.get(f"{{{CAMUNDA_MODEL_NS}}}candidateStarterUsers")),
                start_form=[f for start in process.xpath("./bpmn:startEvent", namespaces=NS)
                            for f in describe_xml(start, CAMUNDA_MODEL_NS)],
            ))
    if not processes:
        names = ", ".join(name for name, _ in files)
        raise Invalid(f"{names}: 没有可执行的流程，请在 Modeler 的流程属性中勾选 Executable "
                      f"(no executable process (isExecutable=\"true\") found)")
    return processes
