"""The plans list (方案列表): one page of the plans a person may see (engine/visibility.py), newest
first, each with its open steps, optionally of one status or with a title or business key
containing a text. The web's /plans and the API's GET /plans read it."""
from __future__ import annotations

from sqlalchemy import func, or_, select

from models import HumanTask, ProcessDefinition, ProcessInstance
from models.process import is_open

from .queries import as_typed, ended_with, task_dict
from .visibility import visible_plans

PAGE_SIZE = 50
PLAN_STATUSES = ("running", "completed", "cancelled", "error")


def plan_rows(session, person, *, status: str | None, text: str, page: int = 1,
              limit: int = PAGE_SIZE, offset: int | None = None) -> tuple[list[dict], bool]:
    """One page of the plans `person` may see, newest first, each with its open steps; and
    whether there is a next page. `limit`/`offset` (the API's) instead of 50 a `page`."""
    query = select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.title,
                   ProcessInstance.status, ProcessInstance.started_by, ProcessInstance.started_at,
                   ProcessInstance.ended_at, ProcessDefinition.key, ProcessDefinition.name) \
        .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id)
    query = _kept(query, person, status, text)
    query = query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc()) \
        .offset((page - 1) * limit if offset is None else offset).limit(limit + 1)
    found = session.execute(query).all()
    ids = [r.id for r in found[:limit]]
    steps: dict[int, list[dict]] = {}
    if ids:
        for task in session.execute(select(HumanTask.__table__).where(
                HumanTask.instance_id.in_(ids), is_open(HumanTask.status)).order_by(HumanTask.id)):
            steps.setdefault(task.instance_id, []).append(task_dict(task))
    ends = ended_with(session.connection(), [r.id for r in found[:limit] if r.status == "completed"])
    rows = [{"id": r.id, "business_key": r.business_key, "title": r.title, "status": r.status,
             "ended_with": ends.get(r.id),
             "started_by": r.started_by, "started_at": r.started_at.isoformat(), "process_key": r.key,
             "process_name": r.name, "tasks": steps.get(r.id, [])} for r in found[:limit]]
    return rows, len(found) > limit


def count_plans(session, person, *, status: str | None, text: str) -> int:
    """How many plans plan_rows pages through."""
    return session.execute(_kept(select(func.count()).select_from(ProcessInstance), person, status, text)).scalar()


def _kept(query, person, status: str | None, text: str):
    query = query.where(visible_plans(person))
    if status:
        query = query.where(ProcessInstance.status == status)
    if text:
        query = query.where(or_(*(column.icontains(typed, autoescape=True) for typed in as_typed(text)
                                  for column in (ProcessInstance.title, ProcessInstance.business_key))))
    return query
