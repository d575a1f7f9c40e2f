"""security: residents' phones encrypted, login failures, anonymised opinions

Revision ID: 17b78eb13121
Revises: 831211804ae5
Create Date: 2026-11-26 12:12:39.676613

Widens ``opinions.contact_mobile``, ``bookings.mobile`` and ``fixed_contacts.phone`` (a
deputy's 固定联系群众) for Fernet tokens and encrypts
the existing plain numbers with the app's ``FIELD_ENCRYPTION_KEY`` (app/security/crypto.py);
a staff booking's resident key ``staff:<mobile>`` becomes ``staff:<blind index>``.
Downgrade decrypts them back (with the same key) before narrowing the columns.
"""

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = "17b78eb13121"
down_revision = "831211804ae5"
branch_labels = None
depends_on = None

# Plain string views of the tables: the data migration handles tokens itself.
opinions = sa.table("opinions", sa.column("id", sa.Integer), sa.column("contact_mobile", sa.String))
fixed_contacts = sa.table("fixed_contacts", sa.column("id", sa.Integer), sa.column("phone", sa.String))
bookings = sa.table(
    "bookings",
    sa.column("id", sa.Integer),
    sa.column("mobile", sa.String),
    sa.column("resident_id", sa.String),
    sa.column("active_resident", sa.String),
)


def _staff_key(mobile, config):
    from app.security.crypto import blind_index

    return "staff:" + blind_index(mobile, config)[:40]


def upgrade():
    op.create_table(
        "login_failures",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_failures_locked_until"), ["locked_until"], unique=False)

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=255),
            existing_nullable=False,
        )

    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "contact_mobile",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=255),
            existing_nullable=False,
            existing_server_default=sa.text("''"),
        )

    with op.batch_alter_table("fixed_contacts", schema=None) as batch_op:
        batch_op.alter_column(
            "phone",
            existing_type=sa.VARCHAR(length=32),
            type_=sa.String(length=255),
            existing_nullable=False,
            existing_server_default=sa.text("''"),
        )

    # Data: encrypt every plain number in place.
    from app.security.crypto import encrypt, is_token

    config = current_app.config
    conn = op.get_bind()
    for row in conn.execute(sa.select(opinions.c.id, opinions.c.contact_mobile)).all():
        if row.contact_mobile and not is_token(row.contact_mobile):
            conn.execute(
                opinions.update()
                .where(opinions.c.id == row.id)
                .values(contact_mobile=encrypt(row.contact_mobile, config))
            )
    for row in conn.execute(sa.select(fixed_contacts.c.id, fixed_contacts.c.phone)).all():
        if row.phone and not is_token(row.phone):
            conn.execute(
                fixed_contacts.update()
                .where(fixed_contacts.c.id == row.id)
                .values(phone=encrypt(row.phone, config))
            )
    query = sa.select(bookings.c.id, bookings.c.mobile, bookings.c.resident_id, bookings.c.active_resident)
    for row in conn.execute(query).all():
        if not row.mobile or is_token(row.mobile):
            continue
        values = {"mobile": encrypt(row.mobile, config)}
        if row.resident_id == f"staff:{row.mobile}"[:64]:
            values["resident_id"] = _staff_key(row.mobile, config)
            if row.active_resident == row.resident_id:
                values["active_resident"] = values["resident_id"]
        conn.execute(bookings.update().where(bookings.c.id == row.id).values(**values))


def downgrade():
    from app.security.crypto import decrypt

    config = current_app.config
    conn = op.get_bind()
    for row in conn.execute(sa.select(opinions.c.id, opinions.c.contact_mobile)).all():
        if row.contact_mobile:
            conn.execute(
                opinions.update()
                .where(opinions.c.id == row.id)
                .values(contact_mobile=decrypt(row.contact_mobile, config)[:32])
            )
    for row in conn.execute(sa.select(fixed_contacts.c.id, fixed_contacts.c.phone)).all():
        if row.phone:
            conn.execute(
                fixed_contacts.update()
                .where(fixed_contacts.c.id == row.id)
                .values(phone=decrypt(row.phone, config)[:32])
            )
    query = sa.select(bookings.c.id, bookings.c.mobile, bookings.c.resident_id, bookings.c.active_resident)
    for row in conn.execute(query).all():
        if not row.mobile:
            continue
        plain = decrypt(row.mobile, config)[:32]
        values = {"mobile": plain}
        if row.resident_id == _staff_key(plain, config):
            values["resident_id"] = f"staff:{plain}"[:64]
            if row.active_resident == row.resident_id:
                values["active_resident"] = values["resident_id"]
        conn.execute(bookings.update().where(bookings.c.id == row.id).values(**values))

    with op.batch_alter_table("fixed_contacts", schema=None) as batch_op:
        batch_op.alter_column(
            "phone",
            existing_type=sa.String(length=255),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
            existing_server_default=sa.text("''"),
        )

    with op.batch_alter_table("opinions", schema=None) as batch_op:
        batch_op.alter_column(
            "contact_mobile",
            existing_type=sa.String(length=255),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
            existing_server_default=sa.text("''"),
        )
        batch_op.drop_column("anonymised_at")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile",
            existing_type=sa.String(length=255),
            type_=sa.VARCHAR(length=32),
            existing_nullable=False,
        )

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_locked_until"))

    op.drop_table("login_failures")
