"""Who may see a plan or a task in the browser. One rule, used by every page that shows either:

- the reform office sees everything (it monitors every plan), and so do auditors (group
  `auditor`: they read every plan's records for the annual assessment);
- anyone else sees a task they are, or were, concerned with: its assignee, a candidate (a named
  candidate user, or a member of a candidate group who works in the unit the task is kept to, if
  any), or someone who held it (claimed it, was assigned it) or completed it;
- someone standing in for a colleague away (委托办理, engine/delegations.py) sees, while the
  delegation is in force, what that colleague sees;
- and a plan when they may see one of its tasks, started it, or work in its lead unit
  (the variable `leadUnit`): `visible_plans`, the SQL condition engine/visibility.py keeps for
  the web and for the engine's own check of who may comment on a plan.

A page refused by this rule answers 404 with the words a plan or task that does not exist gets
(`not_yours`): whether plan 7 exists is not for everyone to learn. Acting on a task (claim,
complete, attach) is checked again by the engine itself.

    may_see_plan(engine, person, instance_id) -> bool
    may_see_task(engine, person, task) -> bool    # task: a dict with the inbox row's names
    may_see_task_id(engine, person, task_id) -> bool
"""
from __future__ import annotations

import json

from flask import g, has_app_context, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from engine.queries import task_dict
# AUDITOR_GROUP and visible_plans are this module's for the other pages (auditor.py, office.py)
from engine.visibility import AUDITOR_GROUP, may_see_plan as may_see, sees_everything, visible_plans  # noqa: F401
from models import AuditEvent, HumanTask

def acting_for(engine, username: str) -> list:
    """Whom `username` stands in for today (委托办理, Engine.acting_for), read once per request:
    a task's page asks it to decide who may see it, then again to draw it, and a comment once more.
    (Outside a request, as a script or test calls these checks: asked each time.)"""
    if not has_app_context():
        return engine.acting_for(username)
    cache = g.setdefault("acting_for", {})
    if username not in cache:
        cache[username] = engine.acting_for(username)
    return cache[username]


# the events that make someone a task's holder, and where each names them
_HOLDING = ("task_created", "task_claimed", "task_assigned", "task_completed")


def may_see_task(engine, person, task: dict) -> bool:
    """Whether `person` (web.auth.Person) may see `task` (Engine.task_view, a list_tasks row)."""
    if sees_everything(person):
        return True
    acting = acting_for(engine, person.username)  # 委托办理: and what those they stand in for may see
    if any(_candidate_or_holder(who, task["candidate_groups"], task["candidate_users"], task.get("candidate_unit"),
                                task.get("assignee"), task.get("completed_by")) for who in [person, *acting]):
        return True
    with engine.db.reader() as session:
        held = _holders(session, task["instance_id"]).get(task["id"], set())
    return any(who.username in held for who in [person, *acting])


def delegated_view(person, task: dict, acting: list) -> dict:
    """For a task's page: `behalf`, whom `person` acts for on a task that person holds; or
    `on_behalf_claim`, whom they could claim an open task for (they may not by their own right);
    and `may_claim`, whether they may claim it at all (the office sees tasks it may only assign)."""
    behalf = task["assignee"] if task["status"] == "claimed" and task["assignee"] != person.username \
        and task["assignee"] in {p.username for p in acting} else None
    claim_for, own_right = None, task["status"] == "open" and _may_take(person, task)
    if task["status"] == "open" and not own_right:
        claim_for = next((p.username for p in acting if _may_take(p, task)), None)
    return {"behalf": behalf, "on_behalf_claim": claim_for, "may_claim": own_right or claim_for is not None}


def _may_take(person, task: dict) -> bool:
    return _candidate_or_holder(person, task["candidate_groups"], task["candidate_users"], task.get("candidate_unit"),
                                None, None)


def may_see_task_id(engine, person, task_id: int) -> bool:
    """`may_see_task` for a task known by its id only; False for one that does not exist."""
    with engine.db.reader() as session:
        row = session.get(HumanTask, task_id)
        task = None if row is None else task_dict(row)
    return task is not None and may_see_task(engine, person, task)


def may_see_plan(engine, person, instance_id: int) -> bool:
    """Whether `person` may see plan `instance_id`; False for a plan that does not exist. The
    same SQL condition as the plans list (`visible_plans`), for one plan."""
    acting = acting_for(engine, person.username)  # 委托办理: the plans of those they stand in for too
    with engine.db.reader() as session:
        return any(may_see(session, who, instance_id) for who in [person, *acting])


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
