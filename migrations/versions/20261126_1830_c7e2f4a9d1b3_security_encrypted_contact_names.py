"""security: residents' names on opinions and bookings encrypted at rest

Revision ID: c7e2f4a9d1b3
Revises: b4d2e8f1a6c3
Create Date: 2026-11-26 18:30:00

Widens ``opinions.contact_name`` and ``bookings.name`` for Fernet tokens and encrypts the
existing plain names with the app's ``FIELD_ENCRYPTION_KEY``, as 17b78eb13121 did for the
phone numbers beside them (app/security/crypto.py). Nothing filters or sorts by these names
in SQL. Downgrade decrypts them back (with the same key) before narrowing the columns.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "c7e2f4a9d1b3"
down_revision = "b4d2e8f1a6c3"
branch_labels = None
depends_on = None

# (table, column, server default): plain string views, the data migration handles tokens itself.
COLUMNS = (("opinions", "contact_name", sa.text("''")), ("bookings", "name", None))


def _convert(convert) -> None:
    conn = op.get_bind()
    for table_name, column, _default in COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.String))
        rows = conn.execute(sa.select(table.c.id, table.c[column]).where(table.c[column] != "")).all()
        for row_id, value in rows:
            new = convert(value)
            if new != value:
                conn.execute(table.update().where(table.c.id == row_id).values({column: new}))


def _resize(old: int, new: int) -> None:
    for table_name, column, default in COLUMNS:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=old),
                type_=sa.String(length=new),
                existing_nullable=False,
                existing_server_default=default,
            )


def upgrade():
    from app.security.crypto import encrypt, is_token

    _resize(32, 255)
    config = current_app.config
    _convert(lambda value: value if is_token(value) else encrypt(value, config))


def downgrade():
    from app.security.crypto import decrypt

    config = current_app.config
    _convert(lambda value: decrypt(value, config)[:32])
    _resize(255, 32)
