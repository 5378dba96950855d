"""邮件提醒: which mails an action calls for, queued in the action's own transaction.

Engine.command calls `queue(ctx)` just before it writes the audit events: the events the action
recorded say what happened (a step opened, the office assigned it, an urge, a reminder), so the
mails follow from them and from nothing else. A refused or rolled-back action records nothing
and queues nothing; a committed one has its mails in `mail_outbox`, for the worker to send
(engine/mail_sender.py). Only people with an email address get mail, and never the person who
did the action themselves (they are looking at the page).

Cost: an action that opens no step and urges nobody costs a scan of its pending events. One
that opens steps learns from the inbox rows' INSERT whether anyone has an address at all
(runtime.sync_tasks); if nobody has, nothing more; else one query for the people with an address
among the new steps' holders and candidates."""
from __future__ import annotations

import json
import os
import re

from sqlalchemy import bindparam, insert, or_, select

from models import Group, HumanTask, MailMessage, ProcessInstance, Unit, User
from models.identity import memberships
from models.process import OPEN_STATUSES

from . import mail_text
from .errors import Invalid

MAX_ADDRESS = 254
# deliberately simple: one @, something before, a dotted domain, no spaces or angle brackets;
# the mail server is the judge of the rest
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+")

# the events that call for mail, and the kind of mail each becomes
_KINDS = {"task_created": "task_new", "task_assigned": "task_assigned", "task_urged": "task_urged",
          "task_reminded": "task_reminded"}


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
    wanted = [e for e in ctx.log.pending if e[0] in _KINDS and e[2] is not None and _mailed(e)
              and not (e[0] == "task_created" and ctx.anyone_mailed is False)]
    if not wanted:
        return 0
    conn = ctx.session.connection()
    rows = _task_rows(conn, {e[2] for e in wanted if e[0] != "task_created"})
    escalated = {e[1] for e in ctx.log.pending if e[0] == "escalation"}
    asked = []  # (event, kind, who): who = (assignee, groups, users, unit)
    for event_type, instance_id, task_id, payload in wanted:
        kind = _KINDS[event_type]
        if event_type == "task_created":
            if instance_id in escalated:  # the step the overdue path opened
                kind = "task_overdue"
            who = (payload.get("assignee"), payload.get("candidate_groups") or [],
                   payload.get("candidate_users") or [], payload.get("candidate_unit"))
        elif event_type == "task_assigned":
            who = ((payload.get("new") or {}).get("assignee"), [], [], None)
        else:  # urged or reminded: whoever holds it now, else its candidates
            row = rows.get(task_id)
            if row is None:
                continue
            who = (row.assignee, json.loads(row.candidate_groups), json.loads(row.candidate_users),
                   row.candidate_unit)
        asked.append(((event_type, instance_id, task_id, payload), kind, who))
    people = _people_with_address(conn, asked)
    if not people:
        return 0
    # whom, from each step's row as the action leaves it: a step opened for candidates that went
    # back to the person who just sent it (_return_to_sender) is theirs now, not the group's
    rows.update(_task_rows(conn, {e[2] for e, _, _ in asked} - set(rows)))
    to_send = []
    for event, kind, _ in asked:
        row = rows.get(event[2])
        if row is None or row.status not in OPEN_STATUSES:
            continue
        who = (row.assignee, json.loads(row.candidate_groups), json.loads(row.candidate_users), row.candidate_unit)
        to_send += [(event, kind, name) for name in _recipients(who, people) if name != ctx.actor]
    if not to_send:
        return 0
    link = base_url()
    actor = conn.execute(_ACTOR, {"name": ctx.actor}).scalar() or ctx.actor
    messages, seen = [], set()
    for (event_type, instance_id, task_id, payload), kind, name in to_send:
        row = rows[task_id]
        if (kind, task_id, name) in seen:
            continue
        seen.add((kind, task_id, name))
        subject, body = mail_text.message(kind, row, payload, to=people[name][1], actor=actor, link=link,
                                          calendar=lambda: ctx.calendar, now=ctx.now)
        messages.append({"username": name, "address": people[name][0], "subject": subject, "body": body,
                         "kind": kind, "instance_id": instance_id, "task_id": task_id, "created_at": ctx.now,
                         "attempts": 0, "next_try_at": ctx.now})
    if messages:
        conn.execute(insert(MailMessage.__table__), messages)
    return len(messages)


def _mailed(event) -> bool:
    """An assignment the office made (not a step returned to the person who just sent it back)."""
    return not (event[0] == "task_assigned" and event[3].get("reason") == "returned")


_USERS, _TASKS, _PLANS, _GROUPS = User.__table__, HumanTask.__table__, ProcessInstance.__table__, Group.__table__
# the active people with an address among those named or in the groups named: (name, address,
# display name, unit, group) a row per group
_PEOPLE = (select(_USERS.c.username, _USERS.c.email, _USERS.c.display_name, Unit.__table__.c.name.label("unit"),
                  _GROUPS.c.code)
           .select_from(_USERS)
           .outerjoin(Unit.__table__, Unit.__table__.c.id == _USERS.c.unit_id)
           .outerjoin(memberships, memberships.c.user_id == _USERS.c.id)
           .outerjoin(_GROUPS, _GROUPS.c.id == memberships.c.group_id)
           .where(_USERS.c.email.is_not(None), _USERS.c.active.is_(True),
                  or_(_USERS.c.username.in_(bindparam("names", expanding=True)),
                      _GROUPS.c.code.in_(bindparam("groups", expanding=True)))))
_ACTOR = select(_USERS.c.display_name).where(_USERS.c.username == bindparam("name"))
_TASK_ROWS = (select(_TASKS.c.id, _TASKS.c.instance_id, _TASKS.c.name, _TASKS.c.subject, _TASKS.c.status,
                     _TASKS.c.assignee, _TASKS.c.candidate_groups, _TASKS.c.candidate_users,
                     _TASKS.c.candidate_unit, _TASKS.c.due_at, _PLANS.c.title, _PLANS.c.business_key)
              .join(_PLANS, _PLANS.c.id == _TASKS.c.instance_id)
              .where(_TASKS.c.id.in_(bindparam("ids", expanding=True))))


def _task_rows(conn, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in conn.execute(_TASK_ROWS, {"ids": sorted(ids)})}


def _people_with_address(conn, asked: list) -> dict[str, tuple]:
    """name -> (address, display name, unit trimmed, set of group codes), for the people the
    asked-for mails could go to who have an address (one query)."""
    names = sorted({n for _, _, (assignee, _, users, _) in asked for n in [assignee, *users] if n})
    groups = sorted({g for _, _, (assignee, gs, _, _) in asked if not assignee for g in gs})
    if not names and not groups:
        return {}
    people: dict[str, tuple] = {}
    for name, address, display_name, unit, code in conn.execute(_PEOPLE, {"names": names, "groups": groups}):
        found = people.setdefault(name, (address, display_name, (unit or "").strip() or None, set()))
        if code:
            found[3].add(code)
    return people


def _recipients(who: tuple, people: dict) -> list[str]:
    """Who a mail goes to: the holder, else each candidate user and each member of a candidate
    group (in the unit the step is kept to, if any), among the people with an address."""
    assignee, groups, users, unit = who
    if assignee:
        return [assignee] if assignee in people else []
    found = [u for u in users if u in people]
    for name, (_, _, their_unit, codes) in sorted(people.items()):
        if name not in found and codes & set(groups) and (unit is None or their_unit == unit.strip()):
            found.append(name)
    return found
