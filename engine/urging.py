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
from datetime import timedelta

from sqlalchemy import func, select

from models import AuditEvent

from .documents import first_hidden
from .errors import Conflict, Invalid, NotFound, ended
from .queries import iso
from .runtime import OPEN_STATUSES

EVENT = "task_urged"
MAX_CHARS = 200
REPEAT = timedelta(minutes=1)
DEFAULT_NOTE = "请抓紧办理。"


MAX_AT_ONCE = 200  # steps urged in one go: a page of the office's overdue list is 50


def urge(engine, task_id: int, *, actor: str, note: str | None = None) -> dict:
    """Urge the holder (or the candidates) of an open step. Reform office only."""
    with engine.command(actor) as ctx:
        engine._office_member(ctx, actor, OFFICE_ONLY)  # who may before what they wrote
        note = checked_note(note)
        task = engine._task(ctx, task_id, None)
        if task.status not in OPEN_STATUSES:
            raise _closed(task)
        return _urge(ctx, task, actor, note)


def urge_many(engine, task_ids: list[int], *, actor: str, note: str | None = None) -> dict:
    """催办所选: the same note to the holders of several steps, in one transaction (the office's
    month-end round of overdue reports). A step finished, withdrawn or gone since the list was
    shown is left out and said, not a reason to urge none of the others. Returns
    {"urged": [as `urge` gives], "skipped": [{"task_id", "name", "reason"}]}."""
    urged, skipped = [], []
    with engine.command(actor) as ctx:
        engine._office_member(ctx, actor, OFFICE_ONLY)  # who may before what they chose
        note = checked_note(note)
        wanted = list(dict.fromkeys(task_ids))  # in the list's order, each once
        if not wanted:
            raise Invalid("请先选择要催办的待办 (choose the steps to urge)")
        if len(wanted) > MAX_AT_ONCE:
            raise Invalid(f"一次最多催办 {MAX_AT_ONCE} 项，现选了 {len(wanted)} 项 (at most {MAX_AT_ONCE} steps at once)")
        for task_id in sorted(wanted):  # locked in id order, as any other batch: no deadlock between two
            try:
                task = engine._task(ctx, task_id, None)
            except NotFound:
                skipped.append({"task_id": task_id, "name": None, "reason": "not_found"})
                continue
            if task.status not in OPEN_STATUSES:
                skipped.append({"task_id": task_id, "name": task.name, "reason": task.status})
                continue
            urged.append(_urge(ctx, task, actor, note))
    order = {task_id: i for i, task_id in enumerate(wanted)}
    return {"urged": sorted(urged, key=lambda u: order[u["task_id"]]),
            "skipped": sorted(skipped, key=lambda s: order[s["task_id"]])}


OFFICE_ONLY = "只有改革办可以催办 (only the reform office may urge a step)"


def _closed(task) -> Conflict:
    return Conflict(f"任务 {task.id}「{task.name}」已办结或已撤销，无需催办 (task {task.id} “{task.name}” is {task.status}: nothing to urge)",
                    reason=ended(task.status))


def _urge(ctx, task, actor: str, note: str) -> dict:
    """One urge of an open step, in the command's transaction; the same note again within REPEAT
    is the one already sent."""
    earlier = ctx.session.execute(
        select(AuditEvent).where(AuditEvent.event_type == EVENT, AuditEvent.task_id == task.id,
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
    # as any text typed to name something (engine/short_text.py): a lone surrogate (Cs) too, which
    # no digest of the trail could encode (a 500); the character named, so it can be found
    if (hidden := first_hidden(note)) is not None:
        raise Invalid(f"催办说明含有控制字符或不可见字符（U+{ord(hidden):04X}），请删去后重新输入 "
                      f"(the note has a control or invisible character, U+{ord(hidden):04X}: remove it and try again)")
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
