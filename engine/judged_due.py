"""The deadline a step is judged by: a deadline missed stays missed.

When a variable moves a step's deadline later after it had passed (the reform office orders a new
filing deadline, 限期报送: bpmn/filing.bpmn's newDeadline), the step is still judged by its first deadline —
overdue from it, late if completed after it, days late counted from it — and the ordered one is
shown beside it (另定期限). Moved earlier, it is judged by the new one. A calendar recount
corrects a deadline rather than ordering another: it leaves `human_tasks.first_due_at` alone
(engine/runtime.py `_follow_due_date` sets it, schema 0026 filled it from the trail).

So the judged deadline is the earlier of the first and the current one, whichever is known.
Every figure asks here: the ledger, the inbox lists and counts, the overview, the statistics.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, or_


def judged_due(first_due_at: datetime | None, due_at: datetime | None) -> datetime | None:
    """The deadline a step is judged by (None: it has none)."""
    if first_due_at is not None and (due_at is None or first_due_at < due_at):
        return first_due_at
    return due_at


def ordered_due(first_due_at: datetime | None, due_at: datetime | None) -> datetime | None:
    """The deadline ordered after the one the step is judged by (另定期限), None if there is none."""
    return due_at if judged_due(first_due_at, due_at) != due_at else None


def of(task) -> tuple[datetime | None, datetime | None]:
    """(judged, ordered) of an inbox row or HumanTask; a row read without `first_due_at` is judged
    by its current deadline."""
    first = getattr(task, "first_due_at", None)
    return judged_due(first, task.due_at), ordered_due(first, task.due_at)


def judged_sql(due_at, first_due_at):
    """judged_due as SQL, of two columns (of human_tasks or a subquery of it)."""
    return case((first_due_at < due_at, first_due_at), else_=func.coalesce(due_at, first_due_at))


def due_by_sql(due_at, first_due_at, moment):
    """judged_due <= moment as SQL without the CASE (due_at's index still serves it): the
    earlier of two deadlines has passed when either has."""
    return or_(due_at <= moment, first_due_at <= moment)

