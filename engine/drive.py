"""Drive plans forward by answering their tasks: used by the demo loader, the benchmark and
the scenario tests. It goes through the same commands a person would (claim, complete)."""
from __future__ import annotations

from typing import Callable, Mapping

from .commands import Engine

Answers = Mapping[str, dict | list | Callable[[dict], dict]]


def pick_user(task: dict, members: Mapping[str, str]) -> str:
    """The assignee, else the first member of a candidate group (members: group -> username)."""
    if task["assignee"]:
        return task["assignee"]
    if task["candidate_users"]:
        return task["candidate_users"][0]
    for group in task["candidate_groups"]:
        if group in members:
            return members[group]
    raise LookupError(f"nobody to act on task {task['element_id']} ({task['candidate_groups']})")


def answer_for(answers: Answers, task: dict, visits: int) -> dict:
    """An element's answer; a list gives one answer per visit (for loops), the last repeating.
    A callable answer, or a callable value in it, is called now: dates relative to the clock."""
    value = answers.get(task["element_id"], {})
    if isinstance(value, list):
        value = value[min(visits, len(value) - 1)] if value else {}
    if callable(value):
        return value(task)
    return {name: given() if callable(given) else given for name, given in value.items()}


def drive(engine: Engine, instance_id: int, answers: Answers, members: Mapping[str, str], *,
          stop_at: set[str] = frozenset(), max_steps: int = 200) -> list[str]:
    """Complete ready tasks until the plan ends or a task in `stop_at` is ready.
    Returns the element ids completed, in order."""
    visited: list[str] = []
    for _ in range(max_steps):
        view = engine.instance(instance_id)
        ready = [t for t in view["tasks"] if t["element_id"] not in stop_at]
        if view["status"] != "running" or not ready:
            return visited
        task = ready[0]
        user = pick_user(task, members)
        if task["status"] == "open":
            engine.claim(task["id"], actor=user)
        engine.complete(task["id"], actor=user, data=answer_for(answers, task, visited.count(task["element_id"])))
        visited.append(task["element_id"])
    raise RuntimeError(f"plan {instance_id} did not settle within {max_steps} steps: {visited[-10:]}")
