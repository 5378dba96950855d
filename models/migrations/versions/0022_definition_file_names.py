"""process_definitions.file_name: the file's own name, without the folders it was deployed from.

Until 5 December 2026 `reformflow deploy m1/legality_review.bpmn` kept `m1/legality_review.bpmn`
as the file name (a browser upload always gave the name alone): 流程定义 showed the analyst's
folders, and the same file looked different by where it was deployed from. The trail's `deployed`
events keep what they recorded; only the definitions' column is cut to the name, as deploy now
stores it (engine/parser.py own_name, written out here so that this migration stays as it is).

Revision ID: 0022
Revises: 0021
"""
from pathlib import PurePosixPath, PureWindowsPath

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

definitions = sa.table('process_definitions', sa.column('id', sa.Integer), sa.column('file_name', sa.String))


def upgrade() -> None:
    conn = op.get_bind()
    # every row, filtered here: a library has tens of versions, and LIKE escapes `\` differently
    # on the two databases
    for row in conn.execute(sa.select(definitions.c.id, definitions.c.file_name)).all():
        name = PureWindowsPath(PurePosixPath(row.file_name).name).name.strip()
        if name and name != row.file_name:
            conn.execute(definitions.update().where(definitions.c.id == row.id).values(file_name=name))


def downgrade() -> None:
    pass  # the folders are not kept anywhere but the trail; the names alone are valid before too
