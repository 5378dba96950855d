"""Who may see which plan: one SQL condition, for the web (web/access.py: the plans list, a plan's
page, 404 for the rest) and for the engine's own commands that need it (a comment, from the web
or the command line, comes only from someone who may see the plan).

- the reform office sees everything (it monitors every plan), and so do auditors (group
  `auditor`: they read every plan's records for the annual assessment);
- anyone else a plan they started, one whose lead unit (the variable `leadUnit`) is their unit,
  one where they hold or held a task (it was created for them, they claimed it or were assigned
  it, or completed it) and one where they are a candidate of a task (named, or in a candidate
  group and in the unit the task is kept to).

`person`: anything with username, group_codes and unit (web.auth.Person, commands.Member).
"""
from __future__ import annotations

import json

from sqlalchemy import and_, func, or_, select, true

from models import AuditEvent, HumanTask, ProcessInstance, TaskCandidate

from .queries import ADMIN_GROUP
from .sql_json import json_text

AUDITOR_GROUP = "auditor"


def sees_everything(person) -> bool:
    return ADMIN_GROUP in person.group_codes or AUDITOR_GROUP in person.group_codes


def only_audits(person) -> bool:
    """An auditor (审计/纪检) who is not also in the reform office: they read every plan and its
    trail, and add nothing to a plan (no comment); they verify, export and anchor the trail."""
    return AUDITOR_GROUP in person.group_codes and ADMIN_GROUP not in person.group_codes


AUDITOR_READS_ONLY = ("审计人员只能查阅方案，不能留言；如需说明情况，请联系改革办 "
                      "(auditors read plans and add nothing to them: no comments; ask the reform office to add a note)")


def visible_plans(person):
    """The plans `person` may see, as one SQL condition on process_instances."""
    if sees_everything(person):
        return true()
    me, unit = person.username, (person.unit or "").strip() or None
    held = select(HumanTask.instance_id).where(or_(HumanTask.assignee == me, HumanTask.completed_by == me))
    # held and then handed back or reassigned: only the trail remembers. Its payload's text then
    # holds `"assignee":"me"` (audit.canonical_json writes every payload so): a plain LIKE first,
    # so that only the events naming them are parsed as JSON, not every task event ever (scale
    # audit: 44,000 at 2,500 plans, most of the cost of a feed poll by someone who sees few plans)
    named = AuditEvent.payload.contains(f'"assignee":{json.dumps(me, ensure_ascii=False)}', autoescape=True)
    held_before = select(AuditEvent.instance_id).where(named, or_(
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


def may_see_plan(session, person, instance_id: int) -> bool:
    """Whether `person` may see plan `instance_id`; False for a plan that does not exist."""
    return session.execute(select(ProcessInstance.id).where(
        ProcessInstance.id == instance_id, visible_plans(person))).first() is not None
