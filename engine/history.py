"""A plan's trail as people read it (全程留痕): every audit event of the plan, oldest first, with
who acted by name, which task, and what a submitted form said under its labels.

The audit export (engine/audit.py) is the auditor's exact record, hashes and all; this is the
same events for the reform office and the drafters who ask "what happened to this plan?".
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, HumanTask, ProcessInstance, User

from .errors import NotFound
from .queries import iso


def plan_history(session: Session, instance_id: int) -> dict:
    plan = session.get(ProcessInstance, instance_id)
    if plan is None:
        raise NotFound(f"方案实例 {instance_id} 不存在 (no such instance)")
    tasks = {t.id: t for t in session.execute(select(HumanTask).where(HumanTask.instance_id == instance_id)).scalars()}
    events = session.execute(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                             .order_by(AuditEvent.seq)).scalars().all()
    actors = {e.actor for e in events}
    names = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(actors))).all())
    trail = []
    for e in events:
        payload = json.loads(e.payload)
        task = tasks.get(e.task_id)
        item = {"seq": e.seq, "occurred_at": iso(e.occurred_at), "actor": e.actor,
                "actor_name": names.get(e.actor), "event_type": e.event_type, "task_id": e.task_id,
                "name": payload.get("name") or (task.name if task is not None else None), "payload": payload}
        if e.event_type == "task_completed" and task is not None:
            item["values"] = _submitted(json.loads(task.form_json), payload.get("new") or {})
        trail.append(item)
    return {"id": plan.id, "title": plan.title, "business_key": plan.business_key, "status": plan.status,
            "events": trail}


def _submitted(form: list[dict], new: dict) -> list[dict]:
    """What a person entered, field by field under the form's labels: read-only fields (shown to
    them, not entered) and fields left empty are left out."""
    values = []
    for field in form:
        value = new.get(field["id"])
        if value is None or "readonly" in field["constraints"]:
            continue
        option = next((o["name"] for o in field["options"] if o["id"] == value), None)
        values.append({"field": field["id"], "label": field["label"], "value": value, "option": option})
    return values
