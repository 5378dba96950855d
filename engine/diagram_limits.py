"""What of a diagram the engine can keep and read, said by `check` (rule `length`, and `bpmn` for
a chain too long) and refused by deploy: ids, names and lanes longer than the database's columns
(the same limits on every database), and more steps in a row than SpiffWorkflow's reader follows."""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": CAMUNDA_MODEL_NS}


def comma_list(text: str | None) -> list[str]:
    """A Camunda comma list (candidateGroups, candidateStarterUsers …): its items, trimmed."""
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
    """`元素 X（名称）：zh (element X “name”: en)` (the name quoted: an English page shows that half alone), with ids and names cut short for the message."""
    if el is None:
        return f"{zh} ({en})"
    element = _short(el.get("id") or "?", 60)
    name = _short(el.get("name") or "") if len(el.get("name") or "") <= NAME_LENGTH else ""  # else said in zh/en
    return (f"元素 {element}" + (f"（{name}）" if name else "") + f"：{zh} (element {element}"
            + (f" “{name}”" if name else "") + f": {en})")


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
                    for item in comma_list(text):
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
                                     f"引擎最多能读取一连串 {MAX_CHAIN} 步；请把其中一段环节移入子流程或被调用的流程",
                         f"this is step {MAX_CHAIN + 1} in a row from the start event (the longest chain here has "
                         f"{deepest} steps); the engine reads at most {MAX_CHAIN} steps in a row: move a stretch of "
                         "them into a subprocess or a called process", "bpmn")]
