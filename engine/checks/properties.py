"""A process property set differently in a process and in a process it calls.

Only the started process's properties become variables (engine/commands.py `start`); a called
process receives its caller's variables, so its own value of the same property counts only when
it is started on its own. An analyst who changes `legalReviewDays` in legality_review.bpmn alone
deploys a version that changes nothing for plans started from reform_plan, and was not told so.
Across the files checked and the latest deployed diagrams; a warning on a file being checked.
"""
from __future__ import annotations

from dataclasses import dataclass

from .common import NS, problem


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
            properties = {p.get("name"): (p.get("value") or "").strip() for p in process.xpath(
                "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS) if p.get("name")}
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
