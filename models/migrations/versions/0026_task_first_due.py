"""human_tasks.first_due_at: the deadline a task had before a variable first moved it

Audit of 6 December 2026: when the reform office orders a new filing deadline (限期报送), the
ledger kept judging the filing by its first deadline (a deadline missed stays missed), reading
it from the trail, while the overview, the inbox and the statistics judged it by the ordered
one. The column keeps that first deadline on the task itself (engine/runtime.py
`_follow_due_date` sets it in the UPDATE that moves the deadline), and every figure judges by the
earlier of the two (engine/judged_due.py).

Existing tasks get it from the trail by the ledger's rule: each task's first `task_due_changed`
event that is not a calendar recount (reason calendar / calendar_rule: a correction, not another
deadline), its `old.due_at`; an event whose old deadline is unknown (the task had none) is passed
over, as the engine passes it over from now on. A plain ADD COLUMN (no batch table copy).

Revision ID: 0026
Revises: 0025
"""
import json
from datetime import datetime

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
        "SELECT task_id, payload FROM audit_events WHERE event_type = 'task_due_changed' "
        "AND task_id IS NOT NULL AND payload NOT LIKE :calendar ORDER BY seq"),
        {"calendar": '%"reason":"calendar%'})
    first: dict[int, datetime] = {}
    for task_id, payload in events:
        if task_id in first:
            continue
        old = (json.loads(payload).get("old") or {}).get("due_at")
        if isinstance(old, str):
            first[task_id] = datetime.fromisoformat(old)
    if first:
        tasks = sa.table('human_tasks', sa.column('id', sa.Integer()), sa.column('first_due_at', UTCDateTime()))
        conn.execute(tasks.update().where(tasks.c.id == sa.bindparam('task'))
                     .values(first_due_at=sa.bindparam('first_due_at')),
                     [{"task": task_id, "first_due_at": due} for task_id, due in first.items()])


def downgrade() -> None:
    # the first deadlines stay in the trail, where the ledger before 0026 reads them
    op.drop_column('human_tasks', 'first_due_at')
