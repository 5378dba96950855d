"""What a task's page says beside the task itself, read from what the engine keeps already:

- `returned_by`: who sent the step back, from which step and when (the completion that opened it
  chose a value the diagram asks to confirm: a return, or a decision such as 暂缓 or 不同意, told
  apart by `is_return`), and `returned` for a page of inbox rows at once (returns only);
- `deadline`: how late an open step is (calendar days, as the plan page and the ledger count) or
  how many working days it has left (the working-day calendar), and the reform office's step
  opened since the deadline passed, if any (an escalation);
- `others_may_claim`: whether anyone but its holder could take a step handed back;
- `materials`: the five statutory procedures of the plan as its decision archive files them
  (engine/archive.py), each done (its latest round, engine/plan_rounds.py), in progress, not needed
  and why, not reached yet, or without a record, what the plan says and the special group's
  review of it, and the drafter's 修改说明 of each redraft, for whoever judges the plan;
- `next_steps`: the steps a submission opened that the person holds or may claim.
"""
from __future__ import annotations

import json
from datetime import datetime, time

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import Session, aliased

from models import AuditEvent, Group, HumanTask, TaskCandidate, User
from models.identity import memberships

from . import clock, forms, plan_rounds
from .archive import OTHER, Records, procedure_records
from .history import Trail
from .ledger import last_day
from .provisional import count_guessed
from .procedures import PROCEDURES
from .queries import ADMIN_GROUP, iso
from .runtime import OPEN_STATUSES, calendar_of, is_open, unit_members

# what makes a step open: a completion (which may be a return), a timer, a message or signal, a start
_CAUSES = ("task_completed", "timer_fired", "message_received", "signal_received", "instance_started",
           "instance_migrated")


def _returning(form: list[dict], payload: dict) -> list[dict]:
    """The choices of a completion that the diagram marks for confirming (a return, a rejection)."""
    return forms.to_confirm(form, payload.get("new") or {})


def returned_by(session: Session, trail: Trail, task_id: int) -> dict | None:
    """Who sent step `task_id` back: the completion that opened it, if it chose a return (or a
    rejection) — who, for which unit, at which step, when, and the choice and what they wrote.
    Its two events are read here, not from `trail` (which holds a task page's completions only):
    on a long trail the return may be hundreds of events back, behind comments and urges."""
    created = session.execute(select(AuditEvent.seq).where(
        AuditEvent.task_id == task_id, AuditEvent.event_type == "task_created")
        .order_by(AuditEvent.seq).limit(1)).scalar()
    if created is None:
        return None
    cause = session.execute(select(AuditEvent).where(
        AuditEvent.instance_id == trail.plan.id, AuditEvent.seq < created, AuditEvent.event_type.in_(_CAUSES))
        .order_by(AuditEvent.seq.desc()).limit(1)).scalar()
    if cause is None or cause.event_type != "task_completed" or cause.task_id == task_id:
        return None
    step = trail.tasks.get(cause.task_id)
    if step is None:
        return None
    payload = json.loads(cause.payload)
    form = json.loads(step.form_json)
    chosen = _returning(form, payload)
    if not chosen:
        return None
    item = trail.describe(cause)
    return {"task_id": step.id, "name": step.name, "subject": step.subject, "at": iso(cause.occurred_at),
            "actor": cause.actor, "actor_name": item["actor_name"], "unit": payload.get("unit"),
            "on_behalf_name": item.get("on_behalf_name"), "chosen": chosen,
            # a return (退回修改: the work is to be redone), else a decision named by its choice
            # (会议决定：暂缓, 会签结论：不同意): the diagram's `returns` says which (forms.return_ids)
            "is_return": any(c["returns"] for c in chosen),
            # what else they wrote (the opinion, the reason), under the form's labels
            "values": [v for v in item["values"] if v["field"] not in {c["field"] for c in chosen}]}


# the events a task's page reads of the trail (materials: the completions; returned_by reads its own)
PAGE_EVENTS = ("task_completed",)


def returned(session: Session, tasks: list[dict]) -> set[int]:
    """The ids among `tasks` (inbox rows) that a return opened (not another confirmed decision:
    暂缓, 不同意), in two SELECTs for a page of them."""
    ids = [t["id"] for t in tasks]
    if not ids:
        return set()
    created = aliased(AuditEvent)
    earlier = aliased(AuditEvent)
    cause_seq = (select(func.max(earlier.seq)).where(earlier.instance_id == created.instance_id,
                                                     earlier.seq < created.seq, earlier.event_type.in_(_CAUSES))
                 .scalar_subquery())
    causes = session.execute(select(created.task_id, cause_seq).where(
        created.event_type == "task_created", created.task_id.in_(ids))).all()
    seqs = {seq: task_id for task_id, seq in causes if seq is not None}
    if not seqs:
        return set()
    found = set()
    for seq, cause_task, payload, form_json in session.execute(
            select(AuditEvent.seq, AuditEvent.task_id, AuditEvent.payload, HumanTask.form_json)
            .join(HumanTask, HumanTask.id == AuditEvent.task_id)
            .where(AuditEvent.seq.in_(list(seqs)), AuditEvent.event_type == "task_completed")):
        if cause_task != seqs[seq] and any(c["returns"] for c in _returning(json.loads(form_json), json.loads(payload))):
            found.add(seqs[seq])
    return found


def deadline(conn: Connection, task: dict, now: datetime) -> dict | None:
    """An open step's deadline as its page says it: overdue by how many days (Beijing dates, as
    the ledger counts), due today, or how many working days are left after today; and, when
    overdue, the reform office's open steps of the plan opened since the deadline (the
    diagram's escalation: 逾期未备案处理, 督办逾期合法性审查). The deadline is the one the step is
    judged by: its first when a later one was ordered (限期报送, engine/judged_due.py)."""
    judged = task.get("judged_due_at", task.get("due_at"))
    if not judged or task["status"] not in OPEN_STATUSES:
        return None
    due = datetime.fromisoformat(judged)
    day, today = last_day(due), now.astimezone(clock.TZ).date()
    # a date deadline runs to the end of that day (stored as the next midnight), any other to its minute
    whole_day = {"whole_day": due.astimezone(clock.TZ).time() == time(0)}
    if due <= now:
        office = [{"id": row.id, "name": row.name, "subject": row.subject} for row in conn.execute(
            select(HumanTask.id, HumanTask.name, HumanTask.subject)
            .join(TaskCandidate, and_(TaskCandidate.task_id == HumanTask.id, TaskCandidate.kind == "group",
                                      TaskCandidate.value == ADMIN_GROUP))
            .where(HumanTask.instance_id == task["instance_id"], is_open(HumanTask.status),
                   HumanTask.id != task["id"], HumanTask.created_at >= due).order_by(HumanTask.id))]
        return whole_day | {"overdue_days": max((today - day).days, 0), "office_steps": office}
    if day == today:
        return whole_day | {"today": True}
    calendar = calendar_of(conn)
    # counted over a year whose holidays nobody entered: a guess, 暂定, as the deadline itself is marked
    return whole_day | {"working_days_left": calendar.working_days_between(today, day),
                        "left_provisional": count_guessed(calendar, today, day)}


def others_may_claim(conn: Connection, task: dict, username: str) -> bool:
    """Whether an active person other than `username` may claim the step if it is handed back:
    named on it, or an active member of one of its groups (in its unit, for a step kept to one).
    A group of one (the only group leader) or a unit with one drafter has nobody else."""
    if any(u != username for u in task["candidate_users"]):
        return bool(conn.execute(select(User.id).where(User.username.in_(task["candidate_users"]),
                                                       User.username != username,
                                                       User.active.is_(True)).limit(1)).first())
    if not task["candidate_groups"]:
        return False
    if task.get("candidate_unit"):
        return unit_members(conn, task["candidate_groups"], task["candidate_unit"], besides=username)
    return conn.execute(select(User.id).join(memberships, memberships.c.user_id == User.id)
                        .join(Group, Group.id == memberships.c.group_id)
                        .where(Group.code.in_(task["candidate_groups"]), User.username != username,
                               User.active.is_(True)).limit(1)).first() is not None


def materials(session: Session, instance_id: int, trail: Trail) -> dict | None:
    """送审材料一览: each of the five procedures as the plan's decision archive files it — done
    (its steps' records of its latest round: engine/plan_rounds.py), in progress (a step of it is
    open), not needed (the plan's own answers close the diagram's way to it: the reason), not
    reached yet, or without a record —, what the plan says and the special group's review
    (`content`, latest round), and the drafter's 修改说明 of each redraft, newest first; for a
    plan whose diagrams name procedures at all (else None). `round`: the plan's current round."""
    found: Records = procedure_records(session, instance_id, trail)
    if not found.procedures:
        return None
    states = found.states()
    round_of, current = plan_rounds.rounds(found)
    sections = []
    for code, (zh, en) in PROCEDURES.items():
        records = found.sections[code]
        latest, last = plan_rounds.latest_round(records, round_of)
        sections.append({"code": code, "name": zh, "name_en": en, **states[code], "records": latest,
                         "count": len(records), "round": last,
                         # its latest records are about an earlier draft than the current one
                         "earlier": last is not None and last < current})
    revisions = revision_notes(found)
    content = plan_rounds.content(found, round_of, current)
    recorded = any(s["records"] for s in sections) or bool(revisions) or bool(content)
    # shown once there is something to say: a record, or a procedure under way or not needed (a
    # reviewer of a plan that needs no consultation sees why none is recorded)
    return {"sections": sections, "revisions": revisions, "content": content, "round": current,
            "recorded": recorded,
            "shown": recorded or any(s["state"] in ("open", "not_needed") for s in sections)}


def revision_notes(found: Records) -> list[dict]:
    """The 修改说明 given with each round of a redraft, newest first: which round of that step (its
    first completion is round 1), who, when, and what they wrote."""
    records = plan_rounds.all_records(found)
    rounds: dict[tuple[str, str | None], int] = {}
    notes = []
    for r in records:
        key = (r["element_id"], r["subject"])
        rounds[key] = rounds.get(key, 0) + 1
        text = next((v["value"] for v in r["values"] if v["field"] == plan_rounds.REVISION_NOTES), None)
        if isinstance(text, str) and text.strip():
            notes.append({"round": rounds[key], "notes": text, "name": r["name"], "subject": r["subject"],
                          "occurred_at": r["occurred_at"], "actor": r["actor"], "actor_name": r["actor_name"]})
    return notes[::-1]


def latest_files(documents: list[dict]) -> set[int]:
    """The ids of the files of a step's latest round, for a step name done in several (方案稿 of
    起草方案, then the 修改稿 of its second round): the ones to read."""
    rounds: dict[str, set[int]] = {}
    for d in documents:
        rounds.setdefault(d.get("task_name") or "", set()).add(d["task_id"])
    latest = {name: max(ids) for name, ids in rounds.items() if len(ids) > 1}
    return {d["id"] for d in documents if latest.get(d.get("task_name") or "") == d["task_id"]}


__all__ = ["OTHER", "deadline", "latest_files", "materials", "others_may_claim", "returned", "returned_by",
           "revision_notes"]
