"""邮件提醒: which mails an action calls for, queued in the action's own transaction.

Engine.command calls `queue(ctx)` just before it writes the audit events: the events the action
recorded say what happened (a step opened, the office assigned it, an urge, a reminder), so the
mails follow from them and from nothing else. A refused or rolled-back action records nothing
and queues nothing; a committed one has its mails in `mail_outbox`, for the worker to send
(engine/mail_sender.py). Only people with an email address get mail, and never the person who
did the action themselves (they are looking at the page). Someone away who named a colleague to
act for them (委托办理, in force today) has the colleague mailed as well, the mail saying for whom:
the colleague is the one who will act.

Cost: an action that opens no step and urges nobody costs a scan of its pending events. One
that opens steps learns from the inbox rows' INSERT whether anyone has an address at all
(runtime.sync_tasks); if nobody has, nothing more; else one query for the people with an address
among the new steps' holders and candidates."""
from __future__ import annotations

import json
import os
import re
from typing import NamedTuple

from sqlalchemy import bindparam, insert, or_, select

from models import Delegation, Group, HumanTask, MailMessage, ProcessInstance, Unit, User
from models.identity import memberships
from models.process import OPEN_STATUSES

from . import delegations, mail_text
from .errors import Invalid

MAX_ADDRESS = 254
# deliberately simple: one @, something before, a dotted domain, no spaces or angle brackets;
# the mail server is the judge of the rest
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+")

# the events that call for mail, and the kind of mail each becomes
_KINDS = {"task_created": "task_new", "task_assigned": "task_assigned", "task_urged": "task_urged",
          "task_reminded": "task_reminded", "task_unclaimed": "task_returned",
          # a reminder held back because the deadline had passed (engine/reminders.py): the holder
          # told the step is overdue instead
          "task_overdue_notice": "task_late"}


def checked_address(value: str | None) -> str | None:
    """An address as entered, trimmed; None for an empty one (no mail). Invalid if malformed."""
    value = (value or "").strip()
    if not value:
        return None
    # ASCII only: a mailbox name in Chinese needs SMTPUTF8, which many office mail servers lack
    if len(value) > MAX_ADDRESS or not value.isascii() or not _ADDRESS.fullmatch(value):
        raise Invalid(f"邮箱地址“{value[:60]}”格式不正确，应如 name@example.gov.cn "
                      f"(not an email address: write it as name@example.gov.cn)")
    return value


def base_url() -> str | None:
    """Where the web inbox is, for the link in a mail: REFORMFLOW_BASE_URL (none: no link)."""
    return (os.environ.get("REFORMFLOW_BASE_URL") or "").strip().rstrip("/") or None


def queue(ctx) -> int:
    """Queue the mails the command's pending audit events call for; returns how many."""
    # with whether the system did it (a timer fired in the command): mailed to the person acting too
    wanted = [(e, ctx.log.is_by_system(i)) for i, e in enumerate(ctx.log.pending)
              if e[0] in _KINDS and e[2] is not None and _mailed(e)
              and not (e[0] == "task_created" and ctx.anyone_mailed is False)]
    if not wanted:
        return 0
    conn = ctx.session.connection()
    rows = _task_rows(conn, {e[2] for e, _ in wanted if e[0] != "task_created"})
    # only the steps an escalation opened (runtime.sync_tasks): not every step the same action
    # opened in the plan (a lead unit's next monthly report was told it was overdue and escalated)
    escalated = getattr(ctx, "opened_by_escalation", set())
    asked = []  # (event, kind, who, by the system): who = (assignee, groups, users, unit)
    for (event_type, instance_id, task_id, payload), by_system in wanted:
        kind = _KINDS[event_type]
        if event_type == "task_created":
            if task_id in escalated:  # the step the overdue path opened
                kind = "task_overdue"
            who = (payload.get("assignee"), payload.get("candidate_groups") or [],
                   payload.get("candidate_users") or [], payload.get("candidate_unit"))
        elif event_type == "task_assigned":
            who = ((payload.get("new") or {}).get("assignee"), [], [], None)
        else:  # urged, reminded or handed back: whoever holds it now, else its candidates
            row = rows.get(task_id)
            if row is None:
                continue
            who = (row.assignee, json.loads(row.candidate_groups), json.loads(row.candidate_users),
                   row.candidate_unit)
        asked.append(((event_type, instance_id, task_id, payload), kind, who, by_system))
    people = _people_with_address(conn, [a[:3] for a in asked], delegations.today(ctx.now))
    if not people:
        return 0
    # whom, from each step's row as the action leaves it: a step opened for candidates that went
    # back to the person who just sent it (_return_to_sender) is theirs now, not the group's
    rows.update(_task_rows(conn, {e[2] for e, _, _, _ in asked} - set(rows)))
    to_send = []
    for event, kind, _, by_system in asked:
        row = rows.get(event[2])
        if row is None or row.status not in OPEN_STATUSES:
            continue
        who = (row.assignee, json.loads(row.candidate_groups), json.loads(row.candidate_users), row.candidate_unit)
        # the person acting is looking at the page, but not at what a timer did meanwhile
        acting = None if by_system else ctx.actor
        for name in _recipients(who, people):
            person = people[name]
            if person.address and name != acting:
                to_send.append((event, kind, name, person.address, person.display_name, None))
            if person.stand_in and person.stand_in != acting:  # 委托办理: the colleague acting for them
                to_send.append((event, kind, person.stand_in, person.stand_in_address, person.stand_in_name,
                                person.display_name))
    if not to_send:
        return 0
    link = base_url()
    actor = conn.execute(_ACTOR, {"name": ctx.actor}).scalar() or ctx.actor
    messages, seen = [], set()
    for (event_type, instance_id, task_id, payload), kind, name, address, display_name, for_whom in to_send:
        row = rows[task_id]
        if (kind, task_id, name) in seen:  # a colleague standing in for two candidates: one mail
            continue
        seen.add((kind, task_id, name))
        subject, body = mail_text.message(kind, row, payload, to=display_name, actor=actor, link=link,
                                          calendar=lambda: ctx.calendar, now=ctx.now, for_whom=for_whom)
        messages.append({"username": name, "address": address, "subject": subject, "body": body,
                         "kind": kind, "instance_id": instance_id, "task_id": task_id, "created_at": ctx.now,
                         "attempts": 0, "next_try_at": ctx.now})
    if messages:
        conn.execute(insert(MailMessage.__table__), messages)
    return len(messages)


def _mailed(event) -> bool:
    """An assignment the office made (not a step returned to the person who just sent it back)."""
    return not (event[0] == "task_assigned" and event[3].get("reason") == "returned")


_USERS, _TASKS, _PLANS, _GROUPS = User.__table__, HumanTask.__table__, ProcessInstance.__table__, Group.__table__
_DELEGATIONS, _STAND_INS = Delegation.__table__, User.__table__.alias("stand_in")
# the active people named or in the groups named who have an address, or who are away with a
# colleague acting for them today who has one (one delegation in force at a time: no overlaps):
# (name, address, display name, unit, group, the colleague's name, address, display name), a row
# per group
_PEOPLE = (select(_USERS.c.username, _USERS.c.email, _USERS.c.display_name, Unit.__table__.c.name.label("unit"),
                  _GROUPS.c.code, _STAND_INS.c.username.label("stand_in"),
                  _STAND_INS.c.email.label("stand_in_address"), _STAND_INS.c.display_name.label("stand_in_name"))
           .select_from(_USERS)
           .outerjoin(Unit.__table__, Unit.__table__.c.id == _USERS.c.unit_id)
           .outerjoin(memberships, memberships.c.user_id == _USERS.c.id)
           .outerjoin(_GROUPS, _GROUPS.c.id == memberships.c.group_id)
           .outerjoin(_DELEGATIONS, (_DELEGATIONS.c.principal == _USERS.c.username)
                      & _DELEGATIONS.c.ended_at.is_(None) & (_DELEGATIONS.c.starts_on <= bindparam("on"))
                      & (_DELEGATIONS.c.ends_on >= bindparam("on")))
           .outerjoin(_STAND_INS, (_STAND_INS.c.username == _DELEGATIONS.c.delegate) & _STAND_INS.c.active.is_(True)
                      & _STAND_INS.c.email.is_not(None))
           .where(_USERS.c.active.is_(True), _USERS.c.email.is_not(None) | _STAND_INS.c.id.is_not(None),
                  or_(_USERS.c.username.in_(bindparam("names", expanding=True)),
                      _GROUPS.c.code.in_(bindparam("groups", expanding=True)))))
_ACTOR = select(_USERS.c.display_name).where(_USERS.c.username == bindparam("name"))
_TASK_ROWS = (select(_TASKS.c.id, _TASKS.c.instance_id, _TASKS.c.name, _TASKS.c.subject, _TASKS.c.status,
                     _TASKS.c.assignee, _TASKS.c.candidate_groups, _TASKS.c.candidate_users,
                     _TASKS.c.candidate_unit, _TASKS.c.due_at, _TASKS.c.due_basis, _TASKS.c.created_at,
                     _PLANS.c.title, _PLANS.c.business_key)
              .join(_PLANS, _PLANS.c.id == _TASKS.c.instance_id)
              .where(_TASKS.c.id.in_(bindparam("ids", expanding=True))))


def _task_rows(conn, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in conn.execute(_TASK_ROWS, {"ids": sorted(ids)})}


class _Person(NamedTuple):
    address: str | None  # None: only their stand-in is mailed
    display_name: str
    unit: str | None  # trimmed
    groups: set
    stand_in: str | None  # the colleague acting for them today, with an address (委托办理)
    stand_in_address: str | None
    stand_in_name: str | None


def _people_with_address(conn, asked: list, on) -> dict[str, _Person]:
    """The people the asked-for mails could go to who have an address, or a colleague with one
    acting for them on day `on` (one query)."""
    names = sorted({n for _, _, (assignee, _, users, _) in asked for n in [assignee, *users] if n})
    groups = sorted({g for _, _, (assignee, gs, _, _) in asked if not assignee for g in gs})
    if not names and not groups:
        return {}
    people: dict[str, _Person] = {}
    for row in conn.execute(_PEOPLE, {"names": names, "groups": groups, "on": on}):
        found = people.setdefault(row.username, _Person(
            row.email, row.display_name, (row.unit or "").strip() or None, set(), row.stand_in,
            row.stand_in_address, row.stand_in_name))
        if row.code:
            found.groups.add(row.code)
    return people


def _recipients(who: tuple, people: dict) -> list[str]:
    """Who a mail goes to: the holder, else each candidate user and each member of a candidate
    group (in the unit the step is kept to, if any), among the people with an address."""
    assignee, groups, users, unit = who
    if assignee:
        return [assignee] if assignee in people else []
    found = [u for u in users if u in people]
    for name, person in sorted(people.items()):
        if name not in found and person.groups & set(groups) and (unit is None or person.unit == unit.strip()):
            found.append(name)
    return found
