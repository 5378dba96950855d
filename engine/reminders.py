"""Reminders: a non-interrupting timer on a user task (or on a subprocess: its user tasks)
reminds whoever holds the task. The
inbox row gets `reminded_at` and the audit trail `task_reminded` naming whom, in whatever action
the timer fires (the worker, or the action that opened a task whose reminder was already due), as
the system's (whoever's command it fired in). A reminder due before the step's deadline that fires
only after it (the worker was stopped) is not sent: its holder gets one overdue notice instead
(`task_overdue_notice`, mailed as 逾期). A path that throws an escalation is the task's overdue
path, not a reminder."""
from __future__ import annotations

import json
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.specs.user_task import UserTask
from sqlalchemy import bindparam, select, update

from models import AuditEvent, HumanTask
from models.process import is_open

_TASKS = HumanTask.__table__
_OPEN_ROWS_OF_ELEMENT = select(_TASKS).where(_TASKS.c.instance_id == bindparam("instance_id"),
                                             _TASKS.c.element_id == bindparam("element_id"), is_open(_TASKS.c.status))
_MARK_REMINDED = update(_TASKS).where(_TASKS.c.id == bindparam("task_id")).values(reminded_at=bindparam("now"))
_EVENTS = AuditEvent.__table__
_NOTICE_SENT = select(_EVENTS.c.seq).where(_EVENTS.c.task_id == bindparam("task_id"),
                                           _EVENTS.c.event_type == "task_overdue_notice").limit(1)


def remind(ctx, instance_id: int, workflow: BpmnWorkflow, fired: list[tuple[dict, object]]) -> None:
    """A non-interrupting timer on a user task is a reminder to whoever holds the task: the
    inbox row is marked and the reminder recorded, whichever action the timer fired in.
    `fired`: each timer_fired event with the timer task that fired."""
    for event, timer in fired:
        conn = ctx.session.connection()
        scope = _scope(workflow, timer)
        rows = [row for element in _reminded_tasks(workflow, event.get("process"), event["element_id"])
                for row in conn.execute(_OPEN_ROWS_OF_ELEMENT, {"instance_id": instance_id, "element_id": element})
                if scope is None or row.spiff_task_id in scope]
        for row in rows:
            to = [row.assignee] if row.assignee else json.loads(row.candidate_users) + \
                [f"group:{g}" for g in json.loads(row.candidate_groups)]
            said = dict(instance_id=instance_id, task_id=row.id, element_id=row.element_id, name=row.name,
                        reminder=event["element_id"], reminder_name=event.get("name"), to=to,
                        due_at=row.due_at.isoformat() if row.due_at else None)
            if _deadline_passed_first(event, row, ctx.now):
                # not reminded_at: nobody was reminded of a deadline ahead; told it is past, once
                if not _notice_given(ctx, conn, row.id):
                    ctx.log.record("task_overdue_notice", **said, reminder_due=event["due"], by_system=True)
                continue
            # only reminded_at, without the version check: a person claiming the task at this
            # moment changes who holds it, not whether it was reminded, and must not make the
            # timer fail (the claim's row lock makes this wait for it instead)
            conn.execute(_MARK_REMINDED, {"task_id": row.id, "now": ctx.now})
            ctx.log.record("task_reminded", **said, by_system=True)


def _notice_given(ctx, conn, task_id: int) -> bool:
    """Whether the step's holder was told it is overdue already: two reminders held back (in this
    command, or one caught up with later) give one notice."""
    if any(e[0] == "task_overdue_notice" and e[2] == task_id for e in ctx.log.pending):
        return True
    return conn.execute(_NOTICE_SENT, {"task_id": task_id}).first() is not None


def _deadline_passed_first(event: dict, row, now: datetime) -> bool:
    """A reminder due before the step's deadline that fires only after it (the timer worker was
    stopped and catches up, or the step opened already late): the step is overdue, as its
    escalation says; a "deadline approaching" after it would mislead the trail's reader and its
    holder's mail. A reminder meant for after the deadline (a nag) still reminds."""
    if row.due_at is None or not isinstance(event.get("due"), str):
        return False
    try:
        reminder_due = datetime.fromisoformat(event["due"])
    except ValueError:
        return False
    if reminder_due.tzinfo is None:
        return False
    return reminder_due < row.due_at <= now


def _scope(workflow: BpmnWorkflow, timer) -> set[str] | None:
    """The user tasks (spiff ids) the timer's own activity holds: the task it is attached to, or
    the user tasks of that run of the subprocess. Each item of a multi-instance subprocess (a
    round's reporters) has its own reminder, which must not remind the other items' tasks too.
    None when the activity is neither (nothing narrowed)."""
    split = getattr(timer, "parent", None)
    if split is None:
        return None
    scope = set()
    for sibling in split.children:
        if isinstance(sibling.task_spec, UserTask):
            scope.add(str(sibling.id))
        elif isinstance(sibling.task_spec, SubWorkflowTask):
            run = workflow.get_subprocess(sibling)
            if run is None:
                return None
            scope.update(str(t.id) for t in run.get_tasks() if isinstance(t.task_spec, UserTask))
    return scope or None


def _reminded_tasks(workflow: BpmnWorkflow, process: str | None, element_id: str) -> list[str]:
    """The user tasks a reminder is for, if a reminder is what fired: a non-interrupting boundary
    timer on a user task, or on a subprocess (its user tasks: a review and its completion loop).
    A path that throws an escalation is the overdue path, not a reminder: it must not overwrite
    when the holder was reminded."""
    specs = {spec.name: spec for spec in [workflow.spec, *workflow.subprocess_specs.values()]}
    for spec in specs.values():
        if process and spec.name != process:
            continue
        event = spec.task_specs.get(element_id)
        if event is None or getattr(event, "cancel_activity", True) or not event.inputs or _escalates(event):
            continue
        for sibling in event.inputs[0].outputs:  # the boundary split: the activity and its events
            if isinstance(sibling, UserTask):
                return [sibling.bpmn_id]
            inner = specs.get(getattr(sibling, "spec", None))
            if isinstance(sibling, SubWorkflowTask) and inner is not None:
                return [t.bpmn_id for t in inner.task_specs.values() if isinstance(t, UserTask)]
    return []


def _escalates(event) -> bool:
    """Whether the path after a boundary event throws an escalation before any user task."""
    seen, todo = set(), list(event.outputs)
    while todo:
        spec = todo.pop()
        if spec.name in seen or isinstance(spec, UserTask):
            continue
        seen.add(spec.name)
        if isinstance(spec, ThrowingEvent) and isinstance(getattr(spec, "event_definition", None),
                                                          EscalationEventDefinition):
            return True
        todo.extend(spec.outputs)
    return False
