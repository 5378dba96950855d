"""A plan's trail as people read it (全程留痕): every audit event of the plan, oldest first, with
who acted by name, which task, and what a submitted form said under its labels.

The audit export (engine/audit.py) is the auditor's exact record, hashes and all; this is the
same events for the reform office and the drafters who ask "what happened to this plan?".
The decision archive (engine/archive.py) reads the same trail. A plan's page reads only its
newest events and a task's page only its completions (bench/trail.py: a plan returned to drafting
again and again, with much talk, has thousands); 全部留言与办理经过 and the API read it whole.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from models import AuditEvent, Group, HumanTask, ProcessDefinition, ProcessInstance, Unit, User

from . import names_then
from .audit import intact, off_clock
from .names_then import NamesThen
from .errors import NotFound
from .queries import iso
from .visibility import sees_everything, visible_plans


@dataclass
class Trail:
    """One plan's audit events with what is needed to say them: its inbox rows and who acted."""
    plan: ProcessInstance | None  # None: events of several plans (events_after)
    tasks: dict[int, HumanTask]
    events: list[AuditEvent]
    names: dict[str, str]
    group_names: dict[str, str]
    processes: dict[tuple[str, int], str]  # (key, version) -> the process's name, for 发起方案「…」
    # each person's name and unit when they acted (engine/names_then.py); None: today's for all
    then: NamesThen | None = None

    def describe(self, e: AuditEvent) -> dict:
        """An event said for people: who by name, which task, a completion's values, and whether
        its content still matches its hash (`intact`)."""
        payload = json.loads(e.payload)
        task = self.tasks.get(e.task_id)
        item = {"seq": e.seq, "occurred_at": iso(e.occurred_at), "actor": e.actor,
                **self._named(e.actor, e.seq, "actor"), "event_type": e.event_type, "task_id": e.task_id,
                "name": payload.get("name") or (task.name if task is not None else None),
                # which body's step, in a round of reports (engine.runtime.instance_subject)
                "subject": task.subject if task is not None else None, "payload": payload,
                # its content against its own hash: a line changed in the database is not shown as fact
                "intact": intact(e),
                # when it was really written, and whether that is far from the time it states (a
                # date given with --now, a fixed clock): such a line is marked, not shown as fact
                "recorded_at": iso(e.recorded_at), "off_clock": off_clock(e),
                # how the person acted: web, api (with the token's id), cli, worker; None: not
                # recorded (before migration 0025), engine/channels.py
                "channel": e.channel, "token_id": e.token_id}
        if e.event_type == "instance_started":
            item["name"] = self.processes.get((payload.get("key"), payload.get("version")))
        if behalf := payload.get("on_behalf_of"):  # 委托办理: the actor stood in for them
            named = self._named(behalf, e.seq, "on_behalf")
            item["on_behalf_of"], item["on_behalf_name"] = behalf, named["on_behalf_name"]
            if "on_behalf_name_now" in named:
                item["on_behalf_name_now"] = named["on_behalf_name_now"]
        if e.event_type == "task_completed" and task is not None:
            item["values"] = submitted_values(json.loads(task.form_json), payload.get("new") or {})
        if e.event_type == "task_created":  # whom it went to, by name: 张伟, or 法制机构、改革办
            item["to_names"] = self._people(payload)
        elif e.event_type == "task_assigned":
            assignee = (payload.get("new") or {}).get("assignee")
            item["to_names"] = self.names.get(assignee, assignee)
        return item

    def _named(self, username: str, seq: int, prefix: str) -> dict:
        """`{prefix}_name` and `{prefix}_unit` as they were at event `seq`, and `…_name_now` /
        `…_unit_now` where today's differ (QA auditor finding 13): 张伟（现名 张维）."""
        if self.then is None:
            return {f"{prefix}_name": self.names.get(username)}
        found = self.then.differs(username, seq)
        return {f"{prefix}_{k}": v for k, v in found.items()}

    def _people(self, payload: dict) -> str:
        if payload.get("assignee"):
            return self.names.get(payload["assignee"], payload["assignee"])
        return "、".join([self.group_names.get(g, g) for g in payload.get("candidate_groups", [])]
                        + [self.names.get(u, u) for u in payload.get("candidate_users", [])])


def load_trail(session: Session, instance_id: int, *, kinds: tuple[str, ...] | None = None,
               newest: int | None = None) -> Trail:
    """The plan's trail, oldest first: all its events, or only those of `kinds` (a task's page
    needs the completions alone), or only its `newest` (a plan's page: a plan returned to
    drafting many times, with many comments and urges, has thousands)."""
    plan = session.get(ProcessInstance, instance_id)
    if plan is None:
        raise NotFound(f"方案 {instance_id} 不存在 (no such plan: {instance_id})")
    tasks = {t.id: t for t in session.execute(select(HumanTask).where(HumanTask.instance_id == instance_id)).scalars()}
    query = select(AuditEvent).where(AuditEvent.instance_id == instance_id)
    if kinds is not None:
        query = query.where(AuditEvent.event_type.in_(kinds))
    if newest is None:
        events = session.execute(query.order_by(AuditEvent.seq)).scalars().all()
    else:
        events = session.execute(query.order_by(AuditEvent.seq.desc()).limit(newest)).scalars().all()[::-1]
    return trail_of(session, plan, tasks, events)


def trail_of(session: Session, plan, tasks: dict, events: list) -> Trail:
    """A Trail of `events` (of one plan, several, or none) with everything needed to say them:
    everyone a trail may name, who acted and whom tasks went to (small tables, read whole), with
    their units, and their names and units along the trail (engine/names_then.py, one SELECT)."""
    people = session.execute(select(User.username, User.display_name, Unit.name)
                             .outerjoin(Unit, User.unit_id == Unit.id)).all()
    names, units = {u: n for u, n, _ in people}, {u: unit for u, _, unit in people}
    groups = dict(session.execute(select(Group.code, Group.display_name)).all())
    return Trail(plan, tasks, events, names, groups, _process_names(session, events),
                 then=names_then.load(session, names, units))


def _process_names(session: Session, events) -> dict:
    """(key, version) -> the diagram's name, for the processes the events start."""
    started = {json.loads(e.payload).get("key") for e in events if e.event_type == "instance_started"}
    return {(k, v): n for k, v, n in session.execute(
        select(ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name)
        .where(ProcessDefinition.key.in_(started)))} if started else {}


def events_after(session: Session, person, after: int, limit: int) -> dict:
    """What happened in every plan `person` may see since event `after`, oldest first: at most
    `limit` events, said as a plan's trail says them, each with its plan's id, title and business
    key. `next_after` is the `after` of the next call. A client polling with it misses nothing:
    events are numbered in the order their transactions commit (the chain's head is moved under a
    lock held to the commit), so no event appears later below a number already read."""
    query = select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit + 1)
    if sees_everything(person):  # most events are a plan's: walking the trail by seq finds them at once
        query = query.join(ProcessInstance, ProcessInstance.id == AuditEvent.instance_id)
    else:
        # Their plans first, then only those plans' events: walking the trail by seq with the
        # visibility as a join filter read all of it, 1M events, on every poll of someone who sees
        # few plans or none (scale audit: 0.6-1.8 s a call). PostgreSQL combines the instance_id
        # and seq indexes (or walks seq for many plans): no other index is needed.
        mine = session.execute(select(ProcessInstance.id).where(visible_plans(person))).scalars().all()
        if not mine:
            return {"after": after, "next_after": after, "more": False, "events": []}
        # PostgreSQL: the ids as one array, not a parameter each (thousands for a reviewer)
        query = query.where(AuditEvent.instance_id == any_(bindparam("mine", mine, type_=ARRAY(Integer)))
                            if session.get_bind().dialect.name == "postgresql" else AuditEvent.instance_id.in_(mine))
    rows = session.execute(query).scalars().all()
    more, rows = len(rows) > limit, rows[:limit]
    plans = {p.id: p for p in session.execute(select(ProcessInstance).where(
        ProcessInstance.id.in_({e.instance_id for e in rows}))).scalars()}
    task_ids = {e.task_id for e in rows if e.task_id is not None}
    tasks = {t.id: t for t in session.execute(select(HumanTask).where(HumanTask.id.in_(task_ids))).scalars()}
    trail = trail_of(session, None, tasks, rows)
    events = [trail.describe(e) | {"instance_id": e.instance_id, "title": plans[e.instance_id].title,
                                   "business_key": plans[e.instance_id].business_key} for e in rows]
    return {"after": after, "next_after": rows[-1].seq if rows else after, "more": more, "events": events}


def plan_history(session: Session, instance_id: int, newest: int | None = None) -> dict:
    """The plan's trail said for people, oldest first; `newest`: only its newest that many events
    (a plan's page), with `total`, how many it has in all."""
    trail = load_trail(session, instance_id, newest=newest)
    plan = trail.plan
    found = {"id": plan.id, "title": plan.title, "business_key": plan.business_key, "status": plan.status,
             "events": [trail.describe(e) for e in trail.events]}
    if newest is not None:
        found["total"] = len(trail.events) if len(trail.events) < newest else session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.instance_id == instance_id)).scalar_one()
        found["earlier_broken"] = _broken_before(session, instance_id, trail.events[0].seq) if (
            found["total"] > len(trail.events)) else 0
    return found


# what an event's own hash covers (audit.intact), read without building the ORM objects
_HASHED = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor, AuditEvent.event_type, AuditEvent.instance_id,
           AuditEvent.task_id, AuditEvent.payload, AuditEvent.prev_hash, AuditEvent.recorded_at, AuditEvent.channel,
           AuditEvent.token_id, AuditEvent.hash)


def _broken_before(session: Session, instance_id: int, seq: int) -> int:
    """How many of the plan's events before `seq` (those its page does not list) fail their own
    hash: the page says so, so that a changed line is not hidden by being old."""
    rows = session.execute(select(*_HASHED).where(AuditEvent.instance_id == instance_id, AuditEvent.seq < seq))
    return sum(1 for row in rows if not intact(row))


def submitted_values(form: list[dict], new: dict) -> list[dict]:
    """What a person entered, field by field under the form's labels: read-only fields (shown to
    them, not entered) and fields left empty are left out."""
    values = []
    for field in form:
        value = new.get(field["id"])
        if value is None or "readonly" in field["constraints"]:
            continue
        option = next((o["name"] for o in field["options"] if o["id"] == value), None)
        values.append({"field": field["id"], "label": field["label"], "value": value, "option": option})
    return values
