"""Where a form field's bound read with previous('x') came from: the step of the plan that last
recorded that value (its `task_completed` event), so that a refused 会议日期 names the earlier
meeting and its date, and the task's page says whose date the field may not precede. Asked only
when a refusal or a page says such a bound: a completion that passes costs no statement."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent

# the completions looked through, newest first: a plan records a meeting every few steps
_LOOKED_AT = 50


def recorded_by(session: Session, plan_id: int, name: str, value) -> str | None:
    """The name of the plan's step whose completion last recorded `name`, if that value was
    `value` (None otherwise: a later step, a script or the start data set it since)."""
    rows = session.execute(
        select(AuditEvent.payload).where(
            AuditEvent.instance_id == plan_id, AuditEvent.event_type == "task_completed",
            # as payloads are written (not ASCII-escaped), a _ or % in the name taken literally
            AuditEvent.payload.contains(json.dumps(name, ensure_ascii=False), autoescape=True))
        .order_by(AuditEvent.seq.desc()).limit(_LOOKED_AT)).scalars()
    for payload in rows:
        event = json.loads(payload)
        new = event.get("new") or {}
        if name in new:
            return event.get("name") if new[name] == value else None
    return None
