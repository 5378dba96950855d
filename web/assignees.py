"""Whom the reform office may give a task to: the people the engine's assign accepts, so that the
select on a task's page offers no name the engine would then refuse (the engine still checks)."""
from __future__ import annotations

import json
from types import SimpleNamespace

from sqlalchemy import func, select

from engine.commands import Engine, Member
from engine.directory import candidates_all_left
from engine.queries import ADMIN_GROUP
from models import Group, HumanTask, Unit, User
from models.identity import memberships
from models.process import is_open


def assignees(engine: Engine, task: dict) -> list[dict]:
    """Active users `Engine.assign` would give `task` (a task_view) to, but its holder: those of
    the unit the task is kept to first, then others (`outside`: the office's decision to give it
    to another unit, which the trail records), each by user name."""
    row = SimpleNamespace(id=task["id"], name=task["name"], candidate_unit=task["candidate_unit"],
                          candidate_groups=json.dumps(task["candidate_groups"]),
                          candidate_users=json.dumps(task["candidate_users"]))
    with engine.db.reader() as s:
        users = _active_users(s)
        nobody_left = candidates_all_left(s, row)
    found = []
    for u in users:
        member = Member(u["username"], u["display_name"], u["groups"], (u["unit"] or "").strip() or None)
        if u["username"] == task["assignee"]:
            continue
        # the engine's own rule (Engine.assign): a candidate, in any unit, or the office for a
        # task whose named candidates have all left
        if Engine._may_claim(member, row, any_unit=True) or (ADMIN_GROUP in member.group_codes and nobody_left):
            outside = bool(task["candidate_unit"]) and not Engine._may_claim(member, row)
            found.append({"username": u["username"], "display_name": u["display_name"], "unit": u["unit"],
                          "outside": outside, "holding": u["holding"]})
    return sorted(found, key=lambda p: (p["outside"], p["username"]))


def _active_users(session) -> list[dict]:
    """Every active user with their unit, group codes and how many open tasks they hold: two
    queries (directory.user_rows loads each user's unit and groups one by one, ~30 ms for the demo)."""
    held = dict(session.execute(select(HumanTask.assignee, func.count()).where(
        is_open(HumanTask.status), HumanTask.assignee.is_not(None)).group_by(HumanTask.assignee)).all())
    users: dict[str, dict] = {}
    for username, display_name, unit, code in session.execute(
            select(User.username, User.display_name, Unit.name, Group.code)
            .outerjoin(Unit, User.unit_id == Unit.id)
            .outerjoin(memberships, memberships.c.user_id == User.id)
            .outerjoin(Group, Group.id == memberships.c.group_id)
            .where(User.active.is_(True)).order_by(User.username)):
        user = users.setdefault(username, {"username": username, "display_name": display_name, "unit": unit,
                                           "groups": [], "holding": held.get(username, 0)})
        if code is not None:
            user["groups"].append(code)
    return list(users.values())
