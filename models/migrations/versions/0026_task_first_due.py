"""human_tasks.first_due_at: the deadline a task had before a variable first moved it

Audit of 6 December 2026: when the reform office orders a new filing deadline (限期报送), the
ledger kept judging the filing by its first deadline (a deadline missed stays missed), reading
it from the trail, while the overview, the inbox and the statistics judged it by the ordered
one. The column keeps that first deadline on the task itself (engine/runtime.py
`_follow_due_date` sets it in the UPDATE that moves the deadline), and every figure judges by the
earlier of the two (engine/judged_due.py).

Existing tasks get it from the trail: each task's first `task_due_changed` event that is not a
calendar recount (reason calendar / calendar_rule: a correction, not another deadline) and that
moved a deadline already passed when it was written (one extended before it passed is simply the
deadline), its `old.due_at`; an event whose old deadline is unknown (the task had none) is passed
over, as the engine passes it over from now on. A plain ADD COLUMN (no batch table copy).

Revision ID: 0026
Revises: 0025
"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from models.base import UTCDateTime

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('human_tasks', sa.Column('first_due_at', UTCDateTime(), nullable=True))
    conn = op.get_bind()
    events = conn.execute(sa.text(
        "SELECT task_id, payload, occurred_at FROM audit_events WHERE event_type = 'task_due_changed' "
        "AND task_id IS NOT NULL ORDER BY seq"))
    first: dict[int, datetime] = {}
    for task_id, payload, occurred_at in events:
        event = json.loads(payload)
        if task_id in first or str(event.get("reason", "")).startswith("calendar"):
            continue
        old = (event.get("old") or {}).get("due_at")
        if isinstance(old, str) and datetime.fromisoformat(old) <= _instant(occurred_at):
            first[task_id] = datetime.fromisoformat(old)
    if first:
        tasks = sa.table('human_tasks', sa.column('id', sa.Integer()), sa.column('first_due_at', UTCDateTime()))
        conn.execute(tasks.update().where(tasks.c.id == sa.bindparam('task'))
                     .values(first_due_at=sa.bindparam('first_due_at')),
                     [{"task": task_id, "first_due_at": due} for task_id, due in first.items()])


def _instant(value) -> datetime:
    """occurred_at as the driver gives it: a datetime (PostgreSQL) or SQLite's text, in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def downgrade() -> None:
    # the first deadlines stay in the trail, where the ledger before 0026 reads them
    op.drop_column('human_tasks', 'first_due_at')
