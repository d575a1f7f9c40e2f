"""analytics: opinions indexed by station and date; a partial one on the open opinions

Revision ID: a7e3c1d9b2f4
Revises: 17b78eb13121
Create Date: 2026-11-26 13:45:00

A region's opinions of a period (drill-down, clusters, live hot words and counters) are
found through ``ix_opinions_station_created`` instead of every opinion of each station.
The dashboards count "overdue now" and "late now" live from the opinions still open
(pending, assigned, guided); below the city they are limited to a region's stations. This
index holds only the open opinions, by station and date, so a district's live count reads a
few thousand index entries instead of every opinion of its stations; with the columns the
count reads included, from the index alone (PostgreSQL).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7e3c1d9b2f4"
down_revision = "17b78eb13121"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('pending', 'assigned', 'guided')")


def upgrade():
    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.create_index("ix_opinions_station_created", ["station_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_opinions_open_station_created",
            ["station_id", "created_at"],
            unique=False,
            postgresql_include=["status", "accept_due", "deadline"],
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade():
    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.drop_index("ix_opinions_open_station_created", postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.drop_index("ix_opinions_station_created")
