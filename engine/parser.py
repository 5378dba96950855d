"""Read Camunda 7 diagrams into SpiffWorkflow specs, keeping what SpiffWorkflow drops.

SpiffWorkflow's Camunda parser keeps forms and camunda:properties but not assignment, due
dates or priority; our user-task parser copies those attributes into `task_spec.extensions`
(which survive serialization) under the keys `camunda:<attribute>`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator, full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .errors import Invalid
from .diagram_limits import comma_list, limit_problems
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
    # Every name the process reads or has a form field for: what start data may give (start_names.py).
    start_names: list = field(default_factory=list)


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
    if own_name(file_name) == own_name(default_file):  # the parser knows the file by its own name
        file_name = default_file
    element = getattr(exc, "id", None)
    name = getattr(exc, "name", None)
    if not element:
        found = _element_at(tree, getattr(exc, "line_number", None), str(exc))
        if found is not None:
            element, name = found.get("id"), found.get("name")
    line = getattr(exc, "line_number", None)
    # the English half names the element `element ID “name”, line N: ` (checks.files reads the
    # element from it); the name in “ ” so that a page in English shows that half alone
    where = ", ".join(([f"element {element}" + (f" “{name}”" if name else "")] if element else [])
                      + ([f"line {line}"] if line else []))
    parts = ([f"元素 {element}" + (f"（{name}）" if name else "")] if element else []) + \
        ([f"第 {line} 行"] if line else [])
    where_zh = "，".join(parts) + "：" if parts else ""
    # SpiffWorkflow's and the XML Schema's own reasons are English (libxml2's may end in "..")
    message = str(exc).split("\n")[0].strip().rstrip(".").rstrip()
    where = f"{where}: " if where else ""
    advice = _id_advice(element) if element and "xs:ID" in message else None
    if advice:
        return Invalid(f"{file_name}: {where_zh}{advice[0]} ({advice[1]}; {where}{message})")
    return Invalid(f"{file_name}: {where_zh}不符合 BPMN 规范，引擎无法读取。原因（英文）：{message}。"
                   f"请在 Modeler 中改正此元素。 ({where}{message}.)")


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


def own_name(label: str) -> str:
    """A file's own name, without the folders it was given with (`m1/legality_review.bpmn`, or
    `C:\\流程\\x.bpmn` from a browser on Windows): what a definition keeps as its file name, so it
    neither shows the analyst's folders nor differs by where the file was deployed from."""
    return PureWindowsPath(PurePosixPath(label).name).name.strip()


def diagram_name(spec) -> str:
    """How a refusal at run time names a process's diagram: its file's own name (definitions
    deployed before the parser kept only that still hold the folders given), else the process."""
    return own_name(spec.file) if spec.file else spec.name


_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


def whole_number(value: str | None) -> int | None:
    """A process property written as a whole number (`15`, `+3`, `-2`, spaces around it), as the
    number a plan gets; None for any other text. The one rule `start` (a property as a variable)
    and `check` (a property an expression counts with) both follow."""
    text = (value or "").strip()
    # one sign at most, then decimal digits only: `str.isdigit` also takes '²', which int() refuses
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def setting(value: str):
    """A process property as a plan's variable: "true"/"false" are booleans, whole numbers are ints,
    anything else stays the text it is."""
    text = (value or "").strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    number = whole_number(text)
    return value if number is None else number


def parse_files(files: list[tuple[str, bytes]]) -> list[ParsedProcess]:
    """Parse a set of BPMN files deployed together; raise Invalid on the first bad one."""
    from .start_names import names_read  # it reads expressions with the checks, which import this module
    parser = ReformflowParser(validator=_validator())
    trees = {}
    for file_name, data in files:
        tree = parse_bpmn_bytes(data, file_name)
        limits = limit_problems(tree, file_name)
        if limits:  # `check` lists them all (engine.checks.files); deploy never gets here with one
            raise Invalid(f"{file_name}: {limits[0].message()}")
        try:
            # the spec keeps its file's own name: plans show it in refusals, not the analyst's folders
            parser.add_bpmn_xml(tree, own_name(file_name))
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
                starter_groups=comma_list(process.get(f"{{{CAMUNDA_MODEL_NS}}}candidateStarterGroups")),
                starter_users=comma_list(process.get(f"{{{CAMUNDA_MODEL_NS}}}candidateStarterUsers")),
                start_form=[f for start in process.xpath("./bpmn:startEvent", namespaces=NS)
                            for f in describe_xml(start, CAMUNDA_MODEL_NS)],
                start_names=names_read(process),
            ))
    if not processes:
        names = ", ".join(name for name, _ in files)
        raise Invalid(f"{names}: 没有可执行的流程，请在 Modeler 的流程属性中勾选 Executable "
                      f"(no executable process (isExecutable=\"true\") found)")
    return processes
