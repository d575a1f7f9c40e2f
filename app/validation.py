"""Small input checks shared by every domain service."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from app.errors import ValidationFailed

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PHONE_RE = re.compile(r"^[0-9+\-() ]{5,32}$")


def clean_text(value: object, field: str, label: str, *, max_len: int, required: bool = True) -> str:
    """Strip and bound a text field; empty is refused when required."""
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        raise ValidationFailed(f"请填写{label}。", field=field)
    if len(text) > max_len:
        raise ValidationFailed(f"{label}不能超过 {max_len} 个字。", field=field)
    if "\x00" in text:
        raise ValidationFailed(f"{label}包含无效字符。", field=field)
    return text


def clean_phone(value: object, field: str = "phone", label: str = "电话", *, required: bool = False) -> str:
    text = clean_text(value, field, label, max_len=32, required=required)
    if text and not PHONE_RE.match(text):
        raise ValidationFailed(f"{label}格式不正确。", field=field)
    return text


def clean_int(
    value: object, field: str, label: str, *, lo: int, hi: int, required: bool = False
) -> int | None:
    if value is None or str(value).strip() == "":
        if required:
            raise ValidationFailed(f"请填写{label}。", field=field)
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{label}应为整数。", field=field) from None
    if not lo <= number <= hi:
        raise ValidationFailed(f"{label}应在 {lo} 到 {hi} 之间。", field=field)
    return number


def clean_coordinate(value: object, field: str, label: str, *, lo: float, hi: float) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{label}应为数字。", field=field) from None
    if not number.is_finite() or not lo <= number <= hi:
        raise ValidationFailed(f"{label}应在 {lo} 到 {hi} 之间。", field=field)
    return number.quantize(Decimal("0.000001"))
