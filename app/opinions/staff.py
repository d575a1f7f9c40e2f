"""Staff working the closed loop: each action through the pipeline, with its audit row.

The console and the staff JSON API call these, so both leave the same trail: who took which
step on which opinion, and who saw which resident's contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.auth.models import StaffUser
from app.errors import DomainError, ValidationFailed
from app.extensions import db
from app.notify.service import audit
from app.opinions.models import Opinion
from app.opinions.pipeline import ACTION_LABELS, assignable_units, perform

# What the audit row keeps of an action's input: enough to see what was decided.
_SUMMARY_KEYS = ("reason", "note", "text", "category", "unit_code", "into", "deputy_ids")
SUMMARY_MAX = 200


def _summary(params: dict) -> str:
    parts = []
    for key in _SUMMARY_KEYS:
        value = params.get(key)
        if value in (None, "", [], False):
            continue
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    for flag in ("legal", "major"):
        if params.get(flag) in (True, "1", "on", "true"):
            parts.append(flag)
    text = "; ".join(parts)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def take_action(opinion: Opinion, action: str, user: StaffUser, params: dict | None = None) -> Opinion:
    """One pipeline step by a staff member, and its audit row, in the caller's transaction."""
    params = dict(params or {})
    perform(opinion, action, user, params)
    label = ACTION_LABELS.get(action, action)
    audit(
        user, f"opinion.{action}", "opinion", opinion.tracking_no, f"{label}：{_summary(params)}".rstrip("：")
    )
    return opinion


@dataclass
class BulkResult:
    done: list[Opinion] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (tracking_no, Chinese reason)


def bulk_assign(opinions: Iterable[Opinion], unit_code: str, user: StaffUser) -> BulkResult:
    """交办 several opinions to one unit: each on its own (a refused one leaves the others done)."""
    code = str(unit_code or "").strip()
    if not any(unit.code == code for unit in assignable_units(user)):
        raise ValidationFailed("请选择您可以交办的承办单位。", field="unit_code")
    result = BulkResult()
    for opinion in opinions:
        try:
            with db.session.begin_nested():
                take_action(opinion, "assign", user, {"unit_code": code})
        except DomainError as exc:
            result.failed.append((opinion.tracking_no, exc.message))
        else:
            result.done.append(opinion)
    return result


@dataclass(frozen=True)
class Contact:
    name: str
    mobile: str

    @property
    def empty(self) -> bool:
        return not (self.name or self.mobile)


def reveal_contact(opinion: Opinion, user: StaffUser) -> Contact:
    """The resident's contact, in full, for a staff member who may see the opinion; logged."""
    contact = Contact(opinion.contact_name or "", opinion.contact_mobile or "")
    if contact.empty:
        raise ValidationFailed("该留言没有留下联系方式。", field="contact")
    audit(user, "reveal_contact", "opinion", opinion.tracking_no, "查看群众联系方式")
    return contact
