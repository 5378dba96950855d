"""Whether the timer worker keeps up: a running plan's timer due longer ago than `GRACE` and not
fired means `reformflow worker` (reformflow-worker, docs/operations.md section 2a) has stopped or
cannot fire it. Nothing else shows it: a stopped worker leaves every page looking calm (no open
step, 预警 绿) while deadlines pass. Read by GET /healthz, the overview (工作台) and a plan's page;
`timers run` and the worker say how late each timer fired by the same measure.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from models import ProcessInstance

# The worker's round is 30 s, and a backlog of thousands of plans after a restart clears in a
# few minutes; a plan whose timer fails is retried after 1, 2, 4 … minutes. 15 minutes is well
# past any of these, yet long before a day's deadline matters: a timer this late is not a slow round.
GRACE = timedelta(minutes=15)


def behind_since(conn: Connection, now: datetime) -> datetime | None:
    """The oldest due time of a running plan's timer not fired `GRACE` after it; None if the
    worker keeps up. One query, on the index of next_timer_at."""
    return conn.execute(select(func.min(ProcessInstance.next_timer_at)).where(
        ProcessInstance.status == "running", ProcessInstance.next_timer_at < now - GRACE)).scalar()


def plan_behind(status: str, next_timer_at: datetime | None, now: datetime) -> bool:
    """Whether one plan's next timer is due longer ago than `GRACE` and not fired."""
    return status == "running" and next_timer_at is not None and next_timer_at < now - GRACE


def late_by(due: datetime, fired_at: datetime) -> timedelta:
    """How late a timer fired (never negative: a timer fires when due or after)."""
    return max(fired_at - due, timedelta(0))


def fired_timer(event: dict, fired_at: datetime) -> dict:
    """A timer_fired event's payload as `timers run` reports it: the element id, its name, when it
    was due, how late it fired, and whether that was more than `GRACE` (the worker was behind)."""
    due = _instant(event.get("due"))
    late = late_by(due, fired_at) if due is not None else None
    return {"timer": event["element_id"], "name": event.get("name") or None,
            "due_at": due.isoformat() if due is not None else None,
            "late_seconds": int(late.total_seconds()) if late is not None else None,
            "late": late is not None and late > GRACE}


def _instant(value) -> datetime | None:
    """The due time a timer's event kept (ISO text); None if it kept none this engine can read."""
    if not isinstance(value, str):
        return None
    try:
        due = datetime.fromisoformat(value)
    except ValueError:
        return None
    return due if due.tzinfo is not None else None
