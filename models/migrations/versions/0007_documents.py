"""documents: files attached to a plan's tasks (附件), with their SHA-256.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('attached_by', sa.String(length=64), nullable=False),
        sa.Column('attached_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'],
                                name=op.f('fk_documents_instance_id_process_instances')),
        sa.ForeignKeyConstraint(['task_id'], ['human_tasks.id'], name=op.f('fk_documents_task_id_human_tasks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    )
    op.create_index(op.f('ix_documents_instance_id'), 'documents', ['instance_id'], unique=False)
    op.create_index(op.f('ix_documents_task_id'), 'documents', ['task_id'], unique=False)
    # Append-only at the database level too, as audit_events is: a file sent again is a new row.
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER documents_no_{action.lower()} BEFORE {action} ON documents
                BEGIN SELECT RAISE(ABORT, 'documents is append-only'); END""")
    else:
        op.execute("""
            CREATE FUNCTION documents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'documents is append-only'; END $$""")
        op.execute("""
            CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE ON documents
            FOR EACH ROW EXECUTE FUNCTION documents_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS documents_no_update")
        op.execute("DROP TRIGGER IF EXISTS documents_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS documents_append_only ON documents")
        op.execute("DROP FUNCTION IF EXISTS documents_append_only()")
    op.drop_index(op.f('ix_documents_task_id'), table_name='documents')
    op.drop_index(op.f('ix_documents_instance_id'), table_name='documents')
    op.drop_table('documents')
