"""The plans list (方案列表): one page of the plans a person may see (engine/visibility.py), newest
first, each with its open steps, optionally of one status or with a title or business key
containing a text. The web's /plans and the API's GET /plans read it."""
from __future__ import annotations

from sqlalchemy import or_, select

from models import HumanTask, ProcessDefinition, ProcessInstance
from models.process import is_open

from .queries import task_dict
from .visibility import visible_plans

PAGE_SIZE = 50
PLAN_STATUSES = ("running", "completed", "cancelled", "error")


def plan_rows(session, person, *, status: str | None, text: str, page: int) -> tuple[list[dict], bool]:
    """One page of the plans `person` may see, newest first, each with its open steps; and
    whether there is a next page."""
    query = select(ProcessInstance.id, ProcessInstance.business_key, ProcessInstance.title,
                   ProcessInstance.status, ProcessInstance.started_by, ProcessInstance.started_at,
                   ProcessInstance.ended_at, ProcessDefinition.key, ProcessDefinition.name) \
        .join(ProcessDefinition, ProcessInstance.definition_id == ProcessDefinition.id) \
        .where(visible_plans(person))
    if status:
        query = query.where(ProcessInstance.status == status)
    if text:
        query = query.where(or_(ProcessInstance.title.icontains(text, autoescape=True),
                                ProcessInstance.business_key.icontains(text, autoescape=True)))
    query = query.order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc()) \
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    found = session.execute(query).all()
    ids = [r.id for r in found[:PAGE_SIZE]]
    steps: dict[int, list[dict]] = {}
    if ids:
        for task in session.execute(select(HumanTask.__table__).where(
                HumanTask.instance_id.in_(ids), is_open(HumanTask.status)).order_by(HumanTask.id)):
            steps.setdefault(task.instance_id, []).append(task_dict(task))
    rows = [{"id": r.id, "business_key": r.business_key, "title": r.title, "status": r.status,
             "started_by": r.started_by, "started_at": r.started_at.isoformat(), "process_key": r.key,
             "process_name": r.name, "tasks": steps.get(r.id, [])} for r in found[:PAGE_SIZE]]
    return rows, len(found) > PAGE_SIZE
