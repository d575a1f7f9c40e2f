"""Rules for deputies and their mandates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from app.deputies.models import Deputy, Mandate, MandateLevel
from app.errors import ValidationFailed
from app.extensions import db
from app.regions.models import Region
from app.stations.service import check_points_named_after
from app.validation import clean_int, clean_text

TERM_YEARS = (1949, 2100)


def _apply(deputy: Deputy, data: Mapping[str, object]) -> None:
    deputy.name = clean_text(data.get("name"), "name", "姓名", max_len=32)
    gender = str(data.get("gender") or "").strip()
    if gender not in ("", "男", "女"):
        raise ValidationFailed("性别只能是“男”或“女”。", field="gender")
    deputy.gender = gender
    deputy.unit = clean_text(data.get("unit"), "unit", "工作单位", max_len=100, required=False)
    deputy.post = clean_text(data.get("post"), "post", "职务", max_len=100, required=False)
    deputy.public_contact = clean_text(
        data.get("public_contact"), "public_contact", "公开联系方式", max_len=64, required=False
    )
    deputy.is_leader = bool(data.get("is_leader"))
    if "active" in data:
        deputy.active = bool(data.get("active"))


def clean_mandates(rows: Iterable[Mapping[str, object]]) -> list[dict]:
    """Check mandate rows (level, term, years); at least one is required."""
    cleaned = []
    seen = set()
    for i, row in enumerate(rows):
        if not any(str(v or "").strip() for v in row.values()):
            continue  # an empty form row
        level = str(row.get("level") or "")
        if level not in MandateLevel.__members__.values():
            raise ValidationFailed(f"第 {i + 1} 项代表资格的层级无效。", field="mandates")
        term = clean_text(row.get("term"), "mandates", "届次", max_len=32)
        start = clean_int(
            row.get("start_year"), "mandates", "任期起始年", lo=TERM_YEARS[0], hi=TERM_YEARS[1], required=True
        )
        end = clean_int(row.get("end_year"), "mandates", "任期结束年", lo=TERM_YEARS[0], hi=TERM_YEARS[1])
        if end is not None and end < start:
            raise ValidationFailed("任期结束年不能早于起始年。", field="mandates")
        if (level, term) in seen:
            raise ValidationFailed(f"{MandateLevel(level).label}{term}重复。", field="mandates")
        seen.add((level, term))
        constituency = clean_text(row.get("constituency"), "mandates", "选区", max_len=100, required=False)
        cleaned.append(
            {"level": level, "term": term, "start_year": start, "end_year": end, "constituency": constituency}
        )
    if not cleaned:
        raise ValidationFailed("请至少填写一项代表资格（层级、届次、任期）。", field="mandates")
    return cleaned


def create_deputy(
    *, region: Region, data: Mapping[str, object], mandates: Iterable[Mapping[str, object]]
) -> Deputy:
    """Register a deputy kept by ``region``'s 人大, with one or more mandates."""
    deputy = Deputy(region=region)
    _apply(deputy, data)
    deputy.mandates = [Mandate(**row) for row in clean_mandates(mandates)]
    db.session.add(deputy)
    db.session.flush()
    return deputy


def update_deputy(
    deputy: Deputy, data: Mapping[str, object], mandates: Iterable[Mapping[str, object]] | None = None
) -> Deputy:
    """Change a deputy's details, and their mandates when given."""
    _apply(deputy, data)
    if mandates is not None:
        deputy.mandates = [Mandate(**row) for row in clean_mandates(mandates)]
    db.session.flush()
    # A renamed deputy must not now give their name to a workplace 联系点.
    check_points_named_after(deputy)
    return deputy


def set_photo(deputy: Deputy, relative_path: str | None) -> None:
    """Point the deputy at a stored, re-encoded photo (or none)."""
    deputy.photo = relative_path
    db.session.flush()
