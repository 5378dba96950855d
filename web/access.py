"""Who may see a plan or a task in the browser. One rule, used by every page that shows either:

- the reform office sees everything (it monitors every plan), and so do auditors (group
  `auditor`: they read every plan's records for the annual assessment);
- anyone else sees a task they are, or were, concerned with: its assignee, a candidate (a named
  candidate user, or a member of a candidate group who works in the unit the task is kept to, if
  any), or someone who held it (claimed it, was assigned it) or completed it;
- and a plan when they may see one of its tasks, started it, or work in its lead unit
  (the variable `leadUnit`).

A page refused by this rule answers 404 with the words a plan or task that does not exist gets
(`not_yours`): whether plan 7 exists is not for everyone to learn. Acting on a task (claim,
complete, attach) is checked again by the engine itself.

    may_see_plan(engine, person, instance_id) -> bool
    may_see_task(engine, person, task) -> bool    # task: a dict with the inbox row's names
    may_see_task_id(engine, person, task_id) -> bool
"""
from __future__ import annotations

import json

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, true

from engine.queries import task_dict
from models import AuditEvent, HumanTask, ProcessInstance, TaskCandidate

from .sql_json import json_text

# the events that make someone a task's holder, and where each names them
_HOLDING = ("task_created", "task_claimed", "task_assigned", "task_completed")


def may_see_task(engine, person, task: dict) -> bool:
    """Whether `person` (web.auth.Person) may see `task` (Engine.task_view, a list_tasks row)."""
    if _sees_everything(person):
        return True
    if _candidate_or_holder(person, task["candidate_groups"], task["candidate_users"], task.get("candidate_unit"),
                            task.get("assignee"), task.get("completed_by")):
        return True
    with engine.db.reader() as session:
        return person.username in _holders(session, task["instance_id"]).get(task["id"], set())


def may_see_task_id(engine, person, task_id: int) -> bool:
    """`may_see_task` for a task known by its id only; False for one that does not exist."""
    with engine.db.reader() as session:
        row = session.get(HumanTask, task_id)
        task = None if row is None else task_dict(row)
    return task is not None and may_see_task(engine, person, task)


def may_see_plan(engine, person, instance_id: int) -> bool:
    """Whether `person` may see plan `instance_id`; False for a plan that does not exist. The
    same SQL condition as the plans list (`visible_plans`), for one plan."""
    with engine.db.reader() as session:
        return session.execute(select(ProcessInstance.id).where(
            ProcessInstance.id == instance_id, visible_plans(person))).first() is not None


def visible_plans(person):
    """The plans `person` (username, group_codes, unit, office) may see, as one SQL condition on
    process_instances: the reform office every plan; anyone else a plan they started, one whose
    lead unit (the variable `leadUnit`) is their unit, one where they hold or held a task (it was
    created for them, they claimed it or were assigned it, or completed it) and one where they
    are a candidate of a task (named, or in a candidate group and in the unit the task is kept to).
    Auditors see every plan, as the office does."""
    if _sees_everything(person):
        return true()
    me, unit = person.username, (person.unit or "").strip() or None
    held = select(HumanTask.instance_id).where(or_(HumanTask.assignee == me, HumanTask.completed_by == me))
    # held and then handed back or reassigned: only the trail remembers
    held_before = select(AuditEvent.instance_id).where(AuditEvent.instance_id.is_not(None), or_(
        and_(AuditEvent.event_type == "task_created", json_text(AuditEvent.payload, "assignee") == me),
        and_(AuditEvent.event_type.in_(("task_claimed", "task_assigned")),
             json_text(AuditEvent.payload, "new", "assignee") == me)))
    in_unit = HumanTask.candidate_unit.is_(None) if unit is None else \
        or_(HumanTask.candidate_unit.is_(None), HumanTask.candidate_unit == unit)
    candidate = select(HumanTask.instance_id).join(TaskCandidate, TaskCandidate.task_id == HumanTask.id).where(or_(
        and_(TaskCandidate.kind == "user", TaskCandidate.value == me),
        and_(TaskCandidate.kind == "group", TaskCandidate.value.in_(list(person.group_codes)), in_unit)))
    conditions = [ProcessInstance.started_by == me, ProcessInstance.id.in_(held),
                  ProcessInstance.id.in_(held_before), ProcessInstance.id.in_(candidate)]
    if unit is not None:
        conditions.append(func.trim(json_text(ProcessInstance.variables_json, "leadUnit")) == unit)
    return or_(*conditions)


AUDITOR_GROUP = "auditor"


def _sees_everything(person) -> bool:
    return person.office or AUDITOR_GROUP in person.group_codes


def not_yours():
    """The page for a plan or task someone may not see, or that does not exist: the same 404."""
    return render_template("not_found.html", message=_("找不到该页面：它不存在，或您无权查看。")), 404


def _unit(name: str | None) -> str | None:
    return (name or "").strip() or None  # as the engine compares units (Engine._member)


def _candidate_or_holder(person, groups: list, users: list, unit: str | None, assignee, completed_by) -> bool:
    if person.username in (assignee, completed_by) or person.username in users:
        return True
    in_unit = unit is None or _unit(person.unit) == unit
    return bool(set(groups) & set(person.group_codes)) and in_unit


def _holders(session, instance_id: int) -> dict[int, set[str]]:
    """Everyone who held each task of the plan at some time, from its trail: a task handed back
    or reassigned since is still theirs to look at."""
    held: dict[int, set[str]] = {}
    rows = session.execute(select(AuditEvent.task_id, AuditEvent.event_type, AuditEvent.actor, AuditEvent.payload)
                           .where(AuditEvent.instance_id == instance_id, AuditEvent.task_id.is_not(None),
                                  AuditEvent.event_type.in_(_HOLDING))).all()
    for task_id, kind, actor, payload in rows:
        data = json.loads(payload)
        who = actor if kind in ("task_claimed", "task_completed") else \
            (data.get("new") or {}).get("assignee") or data.get("assignee")
        if who:
            held.setdefault(task_id, set()).add(who)
    return held
