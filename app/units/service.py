"""Rules for handling units."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select

from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.regions.models import Region
from app.units.models import HandlingUnit, UnitKind
from app.validation import clean_phone, clean_text

CODE_RE = re.compile(r"^[0-9A-Za-z_-]{2,32}$")


def get_unit_by_code(code: str) -> HandlingUnit:
    unit = db.session.scalar(select(HandlingUnit).where(HandlingUnit.code == code))
    if unit is None:
        raise NotFound("未找到该承办单位。")
    return unit


def _apply(unit: HandlingUnit, data: Mapping[str, object]) -> None:
    unit.name = clean_text(data.get("name"), "name", "单位名称", max_len=100)
    kind = str(data.get("kind") or UnitKind.GOVERNMENT)
    if kind not in UnitKind.__members__.values():
        raise ValidationFailed("单位类型无效。", field="kind")
    unit.kind = kind
    unit.contact_name = clean_text(
        data.get("contact_name"), "contact_name", "联系人", max_len=32, required=False
    )
    unit.contact_phone = clean_phone(data.get("contact_phone"), "contact_phone", "联系电话")
    if "active" in data:
        unit.active = bool(data.get("active"))


def create_unit(*, region: Region, code: str, data: Mapping[str, object]) -> HandlingUnit:
    """Add a handling unit that ``region``'s 人大 may assign opinions to."""
    code = clean_text(code, "code", "单位代码", max_len=32)
    if not CODE_RE.match(code):
        raise ValidationFailed("单位代码只能由字母、数字、- 和 _ 组成（2-32 位）。", field="code")
    if db.session.scalar(select(HandlingUnit.id).where(HandlingUnit.code == code)) is not None:
        raise Conflict(f"单位代码 {code} 已存在。", field="code")
    unit = HandlingUnit(code=code, region=region)
    _apply(unit, data)
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(unit: HandlingUnit, data: Mapping[str, object]) -> HandlingUnit:
    _apply(unit, data)
    db.session.flush()
    return unit
