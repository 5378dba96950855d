"""Whom the reform office may give a task to: the people the engine's assign accepts, so that the
select on a task's page offers no name the engine would then refuse (the engine still checks)."""
from __future__ import annotations

import json
from types import SimpleNamespace

from engine.commands import Engine, Member
from engine.directory import candidates_all_left, user_rows
from engine.queries import ADMIN_GROUP


def assignees(engine: Engine, task: dict) -> list[dict]:
    """Active users `Engine.assign` would give `task` (a task_view) to, but its holder: those of
    the unit the task is kept to first, then others (`outside`: the office's decision to give it
    to another unit, which the trail records), each by user name."""
    row = SimpleNamespace(id=task["id"], name=task["name"], candidate_unit=task["candidate_unit"],
                          candidate_groups=json.dumps(task["candidate_groups"]),
                          candidate_users=json.dumps(task["candidate_users"]))
    with engine.db.reader() as s:
        users = user_rows(s)
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
