"""Process properties: the values a local rule fixes, and what the expressions do with them.

* `rule_local_rules` — a property the law bounds (LOCAL_RULES: legalReviewDays) within its bounds;
* `properties_counted_as_text` — a property an expression counts with (`max(7, legalReviewDays)`,
  `legalReviewDays - 2`) must be a whole number: '15天' stays text and every plan stopped there;
* `property_mismatches` — a property set differently in a process and in a process it calls.

Only the started process's properties become variables (engine/commands.py `start`); a called
process receives its caller's variables, so its own value of the same property counts only when
it is started on its own. An analyst who changes `legalReviewDays` in legality_review.bpmn alone
deploys a version that changes nothing for plans started from reform_plan, and was not told so.
Across the files checked and the latest deployed diagrams; a warning on a file being checked.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterator

from ..expressions import ExpressionError, compile_expression
from ..parser import whole_number
from ..scripting import FUNCTION_NAMES
from .common import NS, Doc, problem
from .variables import read_sites


@dataclass(frozen=True)
class LocalRule:
    """What the law says of a number of working days a local rule fixes: less than `least` is
    unlawful, more than `usual_most` more than any local rule allows (a warning: a rule may)."""
    least: int
    usual_most: int
    law_zh: str
    law_en: str


# The properties of docs/modeling.md §5 the law bounds (DOMAIN.md, "Rules from national law").
LOCAL_RULES = {
    "legalReviewDays": LocalRule(
        7, 15, "《重大行政决策程序暂行条例》第二十六条：送请合法性审查，应当保证必要的审查时间，一般不少于7个工作日",
        "Decree 713 (重大行政决策程序暂行条例) Art. 26: a legality review must be given the time it needs, "
        "generally at least 7 working days"),
}


def _process_properties(process) -> dict[str, str]:
    return {p.get("name"): p.get("value") or "" for p in process.xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS) if p.get("name")}


def rule_local_rules(doc: Doc):
    """legalReviewDays below 7 was accepted and then counted as 7 by the diagram's max(7, …), while
    the change list the reform office approved said 5."""
    for process in doc.iter("process"):
        for name, value in _process_properties(process).items():
            rule = LOCAL_RULES.get(name)
            if rule is None:
                continue
            days = whole_number(value)
            if days is None or days < rule.least:
                zh, en = ((f"'{value}' 不是整数", f"'{value}', not a whole number") if days is None else
                          (f"{days}，少于 {rule.least} 个工作日", f"{days}, less than {rule.least} working days"))
                yield doc.problem(process, "process-property", (
                    f"流程属性 {name} 的值为 {zh}：请写 {rule.least} 到 {rule.usual_most} 之间的整数（工作日数），如 "
                    f"{rule.usual_most}。依据：{rule.law_zh} (process property {name} is {en}: write a whole number of "
                    f"working days from {rule.least} to {rule.usual_most}, e.g. {rule.usual_most}. {rule.law_en})"))
            elif days > rule.usual_most:
                yield doc.problem(process, "process-property", (
                    f"流程属性 {name} 的值为 {days}，超过地方规定通常的上限 {rule.usual_most} 个工作日（法律只定下限：{rule.law_zh}）；"
                    f"本地规定确实如此时可忽略此警告 (process property {name} is {days}, more than the {rule.usual_most} "
                    f"working days local rules allow at most (the law sets only the least: {rule.law_en}); if your "
                    "local rule says so, ignore this warning)"), "warning")


# Functions that count with an argument: (function, argument position), None for every argument.
_COUNTING_FUNCTIONS = {"max": None, "min": None, "abs": None, "round": None, "workingDays": None,
                       "addWorkingDays": 1, "addDays": 1, "addMonths": 1}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _is_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _counts_with(tree, name: str) -> bool:
    """Whether the expression does arithmetic or an ordering comparison with the variable `name`,
    or passes it to a function that counts with it; `a ? name : b` and `a || name` pass it on."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == name):
            continue
        parent = parents.get(node)
        while isinstance(parent, (ast.IfExp, ast.BoolOp)) and getattr(parent, "test", None) is not node:
            node, parent = parent, parents.get(parent)
        if isinstance(parent, ast.BinOp):
            other = parent.right if parent.left is node else parent.left
            if not (isinstance(parent.op, ast.Add) and _is_text(other)):
                return True
        elif isinstance(parent, ast.UnaryOp) and not isinstance(parent.op, ast.Not):
            return True
        elif isinstance(parent, ast.Compare):
            operands = [parent.left, *parent.comparators]
            if any(isinstance(op, _ORDERING) for op in parent.ops) and not any(map(_is_text, operands)):
                return True
        elif isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in _COUNTING_FUNCTIONS:
            position = _COUNTING_FUNCTIONS[parent.func.id]
            if position is None or (len(parent.args) > position and parent.args[position] is node):
                return True
    return False


def _counting_site(process, name: str):
    """(element, expression text) of the first expression in `process` that counts with `name`."""
    for el, _, text in read_sites(process):
        try:
            tree = compile_expression(text, FUNCTION_NAMES).tree
        except ExpressionError:
            continue  # refused by the expression rules already
        if _counts_with(tree, name):
            return el, text
    return None


def properties_counted_as_text(files: list[tuple[str, object]], deployed: list) -> Iterator[dict]:
    """An error for each property of a process in `files` that is not a whole number while an
    expression of that process, or of one it calls, counts with it (the called process reads its
    caller's value). Properties LOCAL_RULES bounds are refused by `rule_local_rules` already."""
    processes = _processes(list(files) + [(None, root) for root in deployed])
    for key, process in processes.items():
        if process.file is None:
            continue
        for name, value in sorted(process.properties.items()):
            if name in LOCAL_RULES or not value or whole_number(value) is not None or value.lower() in ("true", "false"):
                continue
            for reached in _reached(processes, key):
                site = _counting_site(processes[reached].element, name)
                if site is not None:
                    yield _not_a_number(process, name, value, reached if reached != key else None, *site)
                    break


def _reached(processes: dict, key: str) -> list[str]:
    """`key` and every process it calls, directly or not, that is known."""
    order, pending = [], [key]
    while pending:
        current = pending.pop(0)
        if current in order or current not in processes:
            continue
        order.append(current)
        pending.extend(sorted(processes[current].calls))
    return order


def _not_a_number(process: "_Process", name: str, value: str, elsewhere: str | None, el, text: str) -> dict:
    digits = re.sub(r"\D", "", value)
    example = digits if digits and len(digits) <= 4 else "15"
    shown = text if len(text) <= 80 else text[:77] + "…"
    where = f"{el.get('id')}" + (f"（{el.get('name')}）" if el.get("name") else " ")
    where_en = f"{el.get('id')}" + (f" ({el.get('name')})" if el.get("name") else "")
    in_zh, in_en = (f"被调用的流程 {elsewhere} 中", f" in {elsewhere}, which this process calls,") if elsewhere else ("", "")
    return problem(process.file, process.element, "process-property", (
        f"流程属性 {name} 的值 '{value}' 不是整数，但{in_zh}元素 {where}的表达式 `{shown}` 用它计算：方案到达那里时会出错"
        f"停住。请写整数，如 {example} (process property {name} is '{value}', not a whole number, but the expression "
        f"`{shown}` of element {where_en}{in_en} counts with it: plans would stop there with an error. Write a whole "
        f"number, e.g. {example})"))



@dataclass
class _Process:
    file: str | None  # None: deployed, not among the files checked
    element: object
    properties: dict[str, str]
    calls: set[str]


def _processes(roots: list[tuple[str | None, object]]) -> dict[str, _Process]:
    found: dict[str, _Process] = {}
    for file, root in roots:
        for process in root.xpath("./bpmn:process", namespaces=NS):
            key = process.get("id")
            if not key or (key in found and found[key].file is not None):
                continue  # a file checked takes the place of the deployed version
            properties = {name: value.strip() for name, value in _process_properties(process).items()}
            calls = {c.get("calledElement").strip() for c in process.iter("{%s}callActivity" % NS["bpmn"])
                     if (c.get("calledElement") or "").strip()}
            found[key] = _Process(file, process, properties, calls)
    return found


def property_mismatches(files: list[tuple[str, object]], deployed: list) -> list[dict]:
    """Warnings for each (caller, called process, property) whose two values differ, where at
    least one of the two is in `files` ((file name, root)); `deployed`: roots of the latest
    deployed diagrams."""
    processes = _processes(list(files) + [(None, root) for root in deployed])
    problems = []
    for caller_key, caller in processes.items():
        for called_key in sorted(caller.calls):
            called = processes.get(called_key)
            if called is None or called_key == caller_key or (caller.file is None and called.file is None):
                continue
            for name in sorted(caller.properties.keys() & called.properties.keys()):
                ours, theirs = called.properties[name], caller.properties[name]
                if ours == theirs:
                    continue
                if called.file is not None:
                    problems.append(problem(called.file, called.element, "process-property", (
                        f"流程属性 {name} = {ours}，但调用本流程的 {caller_key} 设为 {theirs} 并传入本流程："
                        f"从 {caller_key} 发起的方案按 {theirs} 计算，本流程的值只在单独发起时起作用；要改变规则，"
                        f"请把 {caller_key} 的 {name} 一并改为 {ours} 并一起部署 (process property {name} = {ours}, "
                        f"but {caller_key}, which calls this process, sets {theirs} and passes it in: plans started "
                        f"from {caller_key} use {theirs}, and this value counts only when this process is started on "
                        f"its own; to change the rule, change {name} in {caller_key} too and deploy them together)"),
                        "warning"))
                else:
                    problems.append(problem(caller.file, caller.element, "process-property", (
                        f"流程属性 {name} = {theirs}，与被调用的流程 {called_key} 的值 {ours} 不同：从本流程发起的方案"
                        f"按 {theirs} 计算并传入 {called_key}，单独发起的 {called_key} 按 {ours}；两者应一致时，请一并修改 "
                        f"{called_key} (process property {name} = {theirs} differs from {ours} in {called_key}, which "
                        f"this process calls: plans started here use {theirs}, passed into {called_key}; {called_key} "
                        f"started on its own uses {ours}; if they should agree, change {called_key} too)"),
                        "warning"))
    return problems
