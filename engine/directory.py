"""Who the people are: the users and groups lists, and what happens to a person's tasks when
they leave (停用). People move between units and leave all the time; a task held by someone who
has gone must not wait unseen in an inbox nobody opens."""
from __future__ import annotations

import json

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

from models import AuditEvent, Group, HumanTask, TaskCandidate, User
from models.identity import memberships

from .queries import task_dict
from .runtime import has_other_candidates, is_open


def holding(session: Session, username: str) -> int:
    """How many open tasks someone holds."""
    return session.execute(select(func.count()).where(
        is_open(HumanTask.status), HumanTask.assignee == username)).scalar_one()


def user_rows(session: Session, *, group: str | None = None, include_inactive: bool = False) -> list[dict]:
    """Users by username, with their unit, groups and how many open tasks they hold: units and
    groups read with the users (three statements whatever their number), not one by one."""
    query = select(User).options(joinedload(User.unit), selectinload(User.groups)).order_by(User.username)
    if not include_inactive:
        query = query.where(User.active.is_(True))
    if group is not None:
        query = query.where(User.groups.any(Group.code == group))
    held = dict(session.execute(select(HumanTask.assignee, func.count()).where(
        is_open(HumanTask.status), HumanTask.assignee.is_not(None)).group_by(HumanTask.assignee)).all())
    return [user_dict(user, held.get(user.username, 0)) for user in session.execute(query).scalars()]


def user_dict(user: User, holding: int = 0) -> dict:
    return {"username": user.username, "display_name": user.display_name,
            "unit": user.unit.name if user.unit else None, "groups": user.group_codes,
            "active": user.active, "holding": holding, "email": user.email,
            "digest": user.mail_digest}


def sign_ins(session: Session, username: str, *, refused: int = 10) -> dict:
    """Someone's last sign-in and their `refused` latest refused ones, newest first, from the audit
    trail (engine/commands.py records them), in one query. The name is the actor of both events;
    the index on event_type narrows them to sign-ins."""
    def latest(event_type: str, limit: int):
        return select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.event_type, AuditEvent.payload).where(
            AuditEvent.event_type == event_type, AuditEvent.actor == username
        ).order_by(AuditEvent.seq.desc()).limit(limit).subquery().select()
    rows = session.execute(union_all(latest("signed_in", 1), latest("sign_in_refused", refused))).all()
    found = {"last": None, "refused": []}
    for row in sorted(rows, key=lambda r: -r.seq):
        payload = json.loads(row.payload)
        event = {"at": row.occurred_at.isoformat(), "address": payload.get("address"), "reason": payload.get("reason")}
        if row.event_type == "signed_in":
            found["last"] = event
        else:
            found["refused"].append(event)
    return found


def group_rows(session: Session) -> list[dict]:
    """Groups by code, with how many active users each has."""
    members = dict(session.execute(
        select(memberships.c.group_id, func.count()).join(User, User.id == memberships.c.user_id)
        .where(User.active.is_(True)).group_by(memberships.c.group_id)).all())
    return [{"code": g.code, "display_name": g.display_name, "members": members.get(g.id, 0)}
            for g in session.execute(select(Group).order_by(Group.code)).scalars()]


def plans_held_in(session: Session, username: str) -> list[int]:
    """The plans where someone holds an open task, by id: locked before the tasks, as every
    command locks a plan before its tasks."""
    return list(session.execute(select(HumanTask.instance_id).distinct().where(
        is_open(HumanTask.status), HumanTask.assignee == username).order_by(HumanTask.instance_id)).scalars())


def held_tasks(session: Session, username: str) -> list[HumanTask]:
    """The open tasks someone holds, oldest first, locked: their deactivation changes them."""
    return list(session.execute(select(HumanTask).where(
        is_open(HumanTask.status), HumanTask.assignee == username).order_by(HumanTask.id)
        .with_for_update()).scalars())


def only_candidate_of(session: Session, username: str) -> list[HumanTask]:
    """Open tasks nobody holds whose only candidate is `username`: after they leave, nobody
    could claim them."""
    named = select(TaskCandidate.task_id).where(TaskCandidate.kind == "user", TaskCandidate.value == username)
    tasks = session.execute(select(HumanTask).where(
        HumanTask.status == "open", HumanTask.id.in_(named)).order_by(HumanTask.id)).scalars()
    return [t for t in tasks if not others_may_take(session, t, username)]


def others_may_take(session: Session, task: HumanTask, username: str) -> bool:
    """Whether a task held by `username` has other candidates to take it back: a group (for a
    task kept to one unit, an active member of it in that unit), or another user. A task only
    they could do waits for the office to assign it."""
    return has_other_candidates(session.connection(), json.loads(task.candidate_groups),
                                json.loads(task.candidate_users), username, task.candidate_unit)


def candidates_all_left(session: Session, task) -> bool:
    """A task named only users, and every one of them has been deactivated: nobody may take it,
    so the reform office may, as it may a task without candidates."""
    users = json.loads(task.candidate_users)
    if json.loads(task.candidate_groups) or not users:
        return False
    return not session.execute(select(User.id).where(User.username.in_(users), User.active.is_(True))).first()


def tasks_summary(tasks: list[HumanTask]) -> list[dict]:
    return [{key: value for key, value in task_dict(t).items() if key in _SUMMARY} for t in tasks]


_SUMMARY = ("id", "instance_id", "element_id", "name", "subject", "status", "assignee", "candidate_groups",
            "candidate_users", "candidate_unit", "due_at")
