"""催办: the reform office presses whoever has a step to finish it (督促办理), with a line saying what
it expects. The step itself does not change (its deadline, its holder): the urge is an event of
the trail, `task_urged`, with the note, who held the step then and its deadline; the holder's
inbox marks the step and its page shows each urge. The trail is the record, so nothing else is
stored: the inbox reads the urges of the steps it lists in one query over the trail.

An urge sent again by the same person with the same note within REPEAT (a reload, a double click)
is the one already sent, as a comment sent again is (engine/comments.py).
"""
from __future__ import annotations

import json
import unicodedata
from datetime import timedelta

from sqlalchemy import func, select

from models import AuditEvent

from .errors import Conflict, Invalid
from .queries import iso
from .runtime import OPEN_STATUSES

EVENT = "task_urged"
MAX_CHARS = 200
REPEAT = timedelta(minutes=1)
DEFAULT_NOTE = "请抓紧办理。"


def urge(engine, task_id: int, *, actor: str, note: str | None = None) -> dict:
    """Urge the holder (or the candidates) of an open step. Reform office only."""
    note = checked_note(note)
    with engine.command(actor) as ctx:
        engine._office_member(ctx, actor, "只有改革办可以催办 (only the reform office may urge a step)")
        task = engine._task(ctx, task_id, None)
        if task.status not in OPEN_STATUSES:
            raise Conflict(f"任务 {task_id}「{task.name}」已办结或已撤销，无需催办 (the task is {task.status}: "
                           "nothing to urge)")
        earlier = ctx.session.execute(
            select(AuditEvent).where(AuditEvent.event_type == EVENT, AuditEvent.task_id == task_id,
                                     AuditEvent.actor == actor, AuditEvent.occurred_at > ctx.now - REPEAT)
            .order_by(AuditEvent.seq.desc()).limit(1)).scalar()
        if earlier is not None and json.loads(earlier.payload).get("note") == note:
            return {**_said(earlier), "repeated": True}
        ctx.log.record(EVENT, instance_id=task.instance_id, task_id=task.id, element_id=task.element_id,
                       name=task.name, note=note, assignee=task.assignee,
                       due_at=iso(task.due_at) if task.due_at else None)
        return {"task_id": task.id, "instance_id": task.instance_id, "actor": actor, "occurred_at": iso(ctx.now),
                "note": note, "assignee": task.assignee, "repeated": False}


def checked_note(note: str | None) -> str:
    note = (note or "").strip() or DEFAULT_NOTE
    if len(note) > MAX_CHARS:
        raise Invalid(f"催办说明最多 {MAX_CHARS} 个字，现有 {len(note)} 个 (at most {MAX_CHARS} characters, "
                      f"{len(note)} given)")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in note):
        raise Invalid("催办说明不能含有控制字符或不可见字符 (the note has a control or invisible character)")
    return note


def urged(session, task_ids: list[int]) -> dict[int, dict]:
    """For the steps among `task_ids` that were urged: how often and when last (one query)."""
    if not task_ids:
        return {}
    rows = session.execute(
        select(AuditEvent.task_id, func.count(), func.max(AuditEvent.occurred_at))
        .where(AuditEvent.event_type == EVENT, AuditEvent.task_id.in_(task_ids))
        .group_by(AuditEvent.task_id)).all()
    return {task_id: {"count": count, "last_at": iso(last)} for task_id, count, last in rows}


def urges(session, task_id: int) -> list[dict]:
    """Every urge of one step, the latest first."""
    events = session.execute(select(AuditEvent).where(AuditEvent.event_type == EVENT, AuditEvent.task_id == task_id)
                             .order_by(AuditEvent.seq.desc())).scalars()
    return [_said(e) for e in events]


def _said(e: AuditEvent) -> dict:
    payload = json.loads(e.payload)
    return {"task_id": e.task_id, "instance_id": e.instance_id, "actor": e.actor, "occurred_at": iso(e.occurred_at),
            "note": payload.get("note"), "assignee": payload.get("assignee")}
