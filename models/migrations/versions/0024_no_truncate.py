"""audit_events, documents, comments: TRUNCATE refused too, not only UPDATE and DELETE (PostgreSQL).

The append-only triggers of migrations 0001, 0007 and 0011 are row-level BEFORE UPDATE OR DELETE
triggers, which TRUNCATE does not fire: one `TRUNCATE audit_events` emptied the trail (QA auditor
finding 6), where only ops/grant_app_role.sql's REVOKE stood in the way, and only for an app that
does not run as the tables' owner. A statement-level BEFORE TRUNCATE trigger on each refuses it with
the same message, whoever runs it (the owner can still drop the trigger: `audit verify` then finds
the records whose events are gone). SQLite has no TRUNCATE: its `DELETE FROM` fires the row triggers.

Revision ID: 0024
Revises: 0023
"""
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

TABLES = ("audit_events", "documents", "comments")  # each with its <table>_append_only() function


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table in TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
