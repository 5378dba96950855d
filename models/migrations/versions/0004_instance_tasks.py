"""instance_tasks: each workflow task of a plan in its own row

Revision ID: 0004
Revises: 0003

Until 0003 a plan's whole workflow state (every task of the plan and its subprocesses) was one
JSON document in process_instances.state_json, rewritten by every action. From 0004 each task
is a row of instance_tasks and state_json keeps the rest (workflow attributes, subprocess
headers with an empty "tasks"), so an action writes only the tasks it changed. The upgrade
splits every stored state; the downgrade puts the tasks back in.
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_plans = sa.table('process_instances', sa.column('id', sa.Integer), sa.column('state_json', sa.Text))
_tasks = sa.table('instance_tasks', sa.column('instance_id', sa.Integer), sa.column('task_id', sa.String),
                  sa.column('workflow', sa.String), sa.column('position', sa.Integer),
                  sa.column('body', sa.Text))


def upgrade() -> None:
    op.create_table(
        'instance_tasks',
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('workflow', sa.String(length=36), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ondelete='CASCADE',
                                name=op.f('fk_instance_tasks_instance_id_process_instances')),
        sa.PrimaryKeyConstraint('instance_id', 'task_id', name=op.f('pk_instance_tasks')),
    )
    bind = op.get_bind()
    for plan_id, state_json in bind.execute(sa.select(_plans.c.id, _plans.c.state_json)).all():
        state = json.loads(state_json or "{}")
        rows = []
        for workflow, header in [("", state), *state.get("subprocesses", {}).items()]:
            for task_id, task in header.pop("tasks", {}).items():
                rows.append({"instance_id": plan_id, "task_id": task_id, "workflow": workflow,
                             "position": len(rows), "body": json.dumps(task, ensure_ascii=False,
                                                                       separators=(",", ":"))})
            header["tasks"] = {}
        if rows:
            bind.execute(_tasks.insert(), rows)
        bind.execute(_plans.update().where(_plans.c.id == plan_id).values(
            state_json=json.dumps(state, ensure_ascii=False, separators=(",", ":"))))


def downgrade() -> None:
    bind = op.get_bind()
    for plan_id, state_json in bind.execute(sa.select(_plans.c.id, _plans.c.state_json)).all():
        state = json.loads(state_json or "{}")
        for row in bind.execute(sa.select(_tasks).where(_tasks.c.instance_id == plan_id)
                                .order_by(_tasks.c.position)).all():
            header = state if row.workflow == "" else state["subprocesses"][row.workflow]
            header.setdefault("tasks", {})[row.task_id] = json.loads(row.body)
        bind.execute(_plans.update().where(_plans.c.id == plan_id).values(
            state_json=json.dumps(state, ensure_ascii=False, separators=(",", ":"))))
    op.drop_table('instance_tasks')
