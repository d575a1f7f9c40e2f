"""常用答复: reply texts a handling unit reuses, kept by the unit (and the admins above it)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from app.auth.models import ADMIN_ROLES, Role, StaffUser
from app.auth.scope import is_visible
from app.auth.service import require
from app.extensions import db
from app.opinions.models import ReplyTemplate
from app.units.models import HandlingUnit
from app.validation import clean_text

TITLE_MAX = 64
TEXT_MAX = 4000


def can_manage_replies(user: StaffUser, unit: HandlingUnit) -> bool:
    """The unit's own staff, or an admin whose region the unit belongs to."""
    if user.role_enum is Role.UNIT_STAFF:
        return user.unit_id == unit.id
    return user.role_enum in ADMIN_ROLES and is_visible(unit, user)


def reply_templates_of(unit_id: int | None) -> list[ReplyTemplate]:
    """A unit's templates, by title."""
    if unit_id is None:
        return []
    stmt = select(ReplyTemplate).where(ReplyTemplate.unit_id == unit_id)
    return list(db.session.scalars(stmt.order_by(ReplyTemplate.title, ReplyTemplate.id)))


def _apply(template: ReplyTemplate, data: Mapping[str, object]) -> None:
    template.title = clean_text(data.get("title"), "title", "标题", max_len=TITLE_MAX)
    template.text = clean_text(data.get("text"), "text", "答复内容", max_len=TEXT_MAX)


def create_reply_template(user: StaffUser, unit: HandlingUnit, data: Mapping[str, object]) -> ReplyTemplate:
    """Add a reply template to a unit the user looks after."""
    require(can_manage_replies(user, unit), "只能为您负责的承办单位维护常用答复。")
    template = ReplyTemplate(unit_id=unit.id)
    _apply(template, data)
    db.session.add(template)
    db.session.flush()
    return template


def update_reply_template(
    user: StaffUser, template: ReplyTemplate, data: Mapping[str, object]
) -> ReplyTemplate:
    """Change a template's title and text."""
    unit = db.session.get(HandlingUnit, template.unit_id)
    require(can_manage_replies(user, unit), "只能维护您负责的承办单位的常用答复。")
    _apply(template, data)
    db.session.flush()
    return template


def delete_reply_template(user: StaffUser, template: ReplyTemplate) -> None:
    """Remove a template; replies already sent keep their text."""
    unit = db.session.get(HandlingUnit, template.unit_id)
    require(can_manage_replies(user, unit), "只能维护您负责的承办单位的常用答复。")
    db.session.delete(template)
    db.session.flush()
