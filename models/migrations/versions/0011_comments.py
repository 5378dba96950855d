"""comments: a plan's comments (批注/留言), optionally about one of its tasks; append-only.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('unit', sa.String(length=200), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'],
                                name=op.f('fk_comments_instance_id_process_instances')),
        sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_comments_task_id_human_tasks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    )
    op.create_index(op.f('ix_comments_instance_id'), 'comments', ['instance_id'], unique=False)
    # Append-only at the database level, as audit_events and documents are: a correction is a new comment.
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER comments_no_{action.lower()} BEFORE {action} ON comments
                BEGIN SELECT RAISE(ABORT, 'comments is append-only'); END""")
    else:
        op.execute("""
            CREATE FUNCTION comments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'comments is append-only'; END $$""")
        op.execute("""
            CREATE TRIGGER comments_append_only BEFORE UPDATE OR DELETE ON comments
            FOR EACH ROW EXECUTE FUNCTION comments_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS comments_no_update")
        op.execute("DROP TRIGGER IF EXISTS comments_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS comments_append_only ON comments")
        op.execute("DROP FUNCTION IF EXISTS comments_append_only()")
    op.drop_index(op.f('ix_comments_instance_id'), table_name='comments')
    op.drop_table('comments')
