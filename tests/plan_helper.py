"""Drive a reform plan through the engine step by step, as the people in each role would."""
from __future__ import annotations

from engine.audit import verify
from engine.commands import Engine
from engine.demo import STANDARD_ANSWERS as ANSWERS
from engine.drive import answer_for, pick_user

from .conftest import BPMN, read

MEMBERS = {"drafter": "zhang", "participant": "zhao", "special_group": "sun", "legal": "li",
           "risk": "zhou", "expert": "wu", "reform_office": "chen", "group_leader": "liu",
           "gov_office": "huang", "party_office": "lin"}

def deploy_library(engine: Engine):
    return engine.deploy([read(p) for p in sorted(BPMN.glob("*.bpmn"))])


class Plan:
    """One reform plan and the people acting on it."""

    def __init__(self, engine: Engine, data: dict | None = None, title="深化财政预算管理制度改革方案",
                 starter: str = "zhang"):
        self.engine = engine
        self.view = engine.start("reform_plan", actor=starter, title=title, data=data or {})
        self.id = self.view["id"]
        self.done: list[str] = []

    def refresh(self) -> dict:
        self.view = self.engine.instance(self.id)
        return self.view

    @property
    def active(self) -> list[str]:
        return sorted(t["element_id"] for t in self.refresh()["tasks"])

    @property
    def variables(self) -> dict:
        return self.refresh()["variables"]

    def task(self, element_id: str) -> dict:
        matches = [t for t in self.refresh()["tasks"] if t["element_id"] == element_id]
        assert matches, f"{element_id} is not active; active: {self.active}"
        return matches[0]

    def do(self, element_id: str, _task: dict | None = None, **data) -> dict:
        """Claim (if needed) and complete the active task, with the default answer + data."""
        task = _task or self.task(element_id)
        user = pick_user(task, MEMBERS)
        if task["status"] == "open":
            self.engine.claim(task["id"], actor=user)
        answer = {**answer_for(ANSWERS, task, self.done.count(element_id)), **data}
        result = self.engine.complete(task["id"], actor=user, data=answer)
        self.done.append(element_id)
        return result

    def _next(self) -> dict | None:
        """The first ready task by element id (one read of the plan per step), None if none."""
        tasks = sorted(self.refresh()["tasks"], key=lambda t: t["element_id"])
        return tasks[0] if tasks else None

    def run_until(self, element_id: str, **overrides) -> None:
        """Complete tasks with their default answers until `element_id` is active."""
        for _ in range(80):
            if any(t["element_id"] == element_id for t in self.refresh()["tasks"]):
                return
            tasks = sorted(self.view["tasks"], key=lambda t: t["element_id"])
            assert tasks, f"plan ended before reaching {element_id}; done: {self.done}"
            step = tasks[0]
            self.do(step["element_id"], step, **overrides.get(step["element_id"], {}))
        raise AssertionError(f"{element_id} never became active; done: {self.done}")

    def finish(self, **overrides) -> None:
        """Complete tasks with their default answers until the plan ends."""
        for _ in range(80):
            step = self._next()
            if self.view["status"] != "running":
                return
            assert step, f"plan is waiting without tasks (timer?); done: {self.done}"
            self.do(step["element_id"], step, **overrides.get(step["element_id"], {}))
        raise AssertionError(f"plan did not finish; done: {self.done}")

    @property
    def created(self) -> list[str]:
        """The user tasks the plan created, in order (from the audit trail)."""
        return [e["element_id"] for e in audit_payloads(self.engine, self.id, "task_created")]

    def fire_timers_at(self, at, moment: str) -> list[str]:
        """Move the clock to `moment` and fire what is due; returns the timers that fired."""
        with at(moment):
            return [t for fired in self.engine.fire_due_timers() if fired["instance_id"] == self.id
                    for t in fired["timers"]]

    def audit_ok(self) -> bool:
        with self.engine.db.reader() as s:
            return verify(s).ok


def complete_step(engine: Engine, plan_id: int, element_id: str, actor: str, data: dict) -> None:
    """Claim (if open) and complete a plan's one open step `element_id`, for a process started on
    its own (Plan drives reform_plan)."""
    [task] = [t for t in engine.instance(plan_id)["tasks"] if t["element_id"] == element_id]
    if task["status"] == "open":
        engine.claim(task["id"], actor=actor)
    engine.complete(task["id"], actor=actor, data=data)


def audit_payloads(engine: Engine, instance_id: int, event_type: str) -> list[dict]:
    import json

    from sqlalchemy import select

    from models import AuditEvent
    with engine.db.reader() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                  AuditEvent.event_type == event_type)
                         .order_by(AuditEvent.seq)).scalars().all()
    return [json.loads(r.payload) for r in rows]


def end_event(engine: Engine, instance_id: int) -> str | None:
    ended = audit_payloads(engine, instance_id, "instance_ended")
    return ended[0]["end_event"] if ended else None


def fired_ids(fired: list[dict]) -> list[dict]:
    """What fire_due_timers fired, as plans and their timers' ids (each plan also carries its key,
    title and each timer's name, due time and lateness: tests/test_ops_cli.py checks those)."""
    return [{"instance_id": f["instance_id"], "timers": f["timers"]} for f in fired]
